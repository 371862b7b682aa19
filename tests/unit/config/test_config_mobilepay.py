"""MOBILEPAY_* settings: checked where they are read, all or none, the live API in production."""

from __future__ import annotations

import pytest
from test_config_production import GOOD_PRODUCTION, leaked

from justdriving.config import Settings
from justdriving.domain.errors import ConfigurationError

MOBILEPAY = {
    "MOBILEPAY_CLIENT_ID": "Mp3Ci7Qz1Xw5Lv9",
    "MOBILEPAY_CLIENT_SECRET": "Mp8Cs2Rt6Yu0Io4Pa",
    "MOBILEPAY_SUBSCRIPTION_KEY": "Mp5Sk9Dh3Fj7Gk1Lz",
    "MOBILEPAY_MERCHANT_SERIAL_NUMBER": "123456",
    "MOBILEPAY_WEBHOOK_SECRET": "Mp1Wh5Bn9Vc3Xz7Qa",
}


def problems(**changes: str | None) -> list[str]:
    env = {**GOOD_PRODUCTION, **MOBILEPAY}
    for name, value in changes.items():
        if value is None:
            env.pop(name)
        else:
            env[name] = value
    return Settings.from_env(env, env_file=None).production_problems()


def test_a_full_mobilepay_configuration_on_the_live_api_passes() -> None:
    assert problems() == []
    settings = Settings.from_env({**GOOD_PRODUCTION, **MOBILEPAY}, env_file=None)
    assert settings.mobilepay_api(production=True) == "https://api.vipps.no"
    assert settings.mobilepay_api(production=False) == "https://apitest.vipps.no"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"MOBILEPAY_WEBHOOK_SECRET": None}, "MOBILEPAY_WEBHOOK_SECRET"),
        ({"MOBILEPAY_SUBSCRIPTION_KEY": None}, "MOBILEPAY_SUBSCRIPTION_KEY"),
        ({"MOBILEPAY_API_BASE": "https://apitest.vipps.no"}, "MOBILEPAY_API_BASE"),
        ({"MOBILEPAY_API_BASE": "http://api.vipps.no"}, "MOBILEPAY_API_BASE"),
    ],
)
def test_production_refuses_a_half_or_test_configuration_naming_it(
    changes: dict[str, str | None], named: str
) -> None:
    found = problems(**changes)
    assert any(named in problem for problem in found), found
    assert not leaked({**MOBILEPAY}, " ".join(found))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MOBILEPAY_MERCHANT_SERIAL_NUMBER", "12a456"),
        ("MOBILEPAY_MERCHANT_SERIAL_NUMBER", "123"),
        ("MOBILEPAY_API_BASE", "ftp://api.vipps.no"),
        ("MOBILEPAY_API_BASE", "api.vipps.no"),
    ],
)
def test_a_malformed_value_is_refused_when_read(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({name: value}, env_file=None)
    assert any(problem.startswith(name) for problem in refused.value.problems)


def test_without_mobilepay_nothing_is_asked_of_it() -> None:
    settings = Settings.from_env(GOOD_PRODUCTION, env_file=None)
    assert not settings.mobilepay_configured
    assert settings.production_problems() == []
    assert set(Settings.from_env(MOBILEPAY, env_file=None).masked().values()) >= {"set"}
