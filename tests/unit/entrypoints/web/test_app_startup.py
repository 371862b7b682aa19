"""`create_app()` without a container: the settings are read and checked at once (what
`build_container` refuses, it refuses when the app is created), and the container is built on
the first request that needs it; every route answers as the app built on a container does."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from justdriving.config import Settings
from justdriving.container import build_container
from justdriving.domain.errors import ConfigurationError
from justdriving.entrypoints.flask_app import create_app

OPS_TOKEN = "an ops token for this test only"
FAKES = {
    "DATABASE_URL": "memory://",
    "PAYMENT_PROVIDER": "fake",
    "SMS_PROVIDER": "fake",
    "OPS_TOKEN": OPS_TOKEN,
}
OPS = {"Authorization": f"Bearer {OPS_TOKEN}"}


def app_from(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp: Path) -> Flask:
    monkeypatch.chdir(tmp)  # no .env here
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return create_app()


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"SMS_REDIRECT_TO": "not a number"}, "SMS_REDIRECT_TO"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://db.internal/justdriving"}, "DATABASE_URL"),
        ({"APP_ENV": "production", "DEBUG": "true"}, "DEBUG"),
        ({"APP_ENV": "staging"}, "MAIL_REDIRECT_TO"),
        ({"TRUSTED_PROXY_HOPS": "9"}, "TRUSTED_PROXY_HOPS"),
    ],
)
def test_what_build_container_refuses_create_app_refuses_when_the_app_is_created(
    environment: dict[str, str], named: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment = {**FAKES, **environment}
    with pytest.raises(ConfigurationError) as by_the_container:
        build_container(Settings.from_env(environment, env_file=None))

    with pytest.raises(ConfigurationError) as by_the_app:
        app_from(environment, monkeypatch, tmp_path)

    assert named in " ".join(by_the_app.value.problems)
    assert by_the_app.value.problems == by_the_container.value.problems


REQUESTS: list[tuple[str, str, bytes | None, dict[str, str]]] = [
    ("GET", "/healthz", None, {}),
    ("GET", "/readyz", None, {}),
    ("GET", "/wp-admin", None, {}),
    ("DELETE", "/healthz", None, {}),
    ("POST", "/webhook/payments/fake", b'{"id": "evt_1"}', {}),
    ("POST", "/webhook/payments/nosuch", b"{}", {}),
    ("POST", "/webhook/sms/fake/nonsense", b"{}", {}),
    ("POST", "/api/invoices/inv_1/payments", b"[]", {}),
    ("POST", "/api/invoices/inv_1/payments", b'{"school_id": "sch_none"}', {}),
    ("GET", "/ops", None, {}),
    ("GET", "/ops", None, OPS),
    ("GET", "/ops/invoices/inv_none", None, OPS),
    ("GET", "/pay/not-a-token", None, {}),
    ("GET", "/dev/checkout/pi_none", None, {}),
    ("GET", "/", None, {}),
]


def test_every_route_answers_as_the_app_built_on_a_container_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    built = create_app(build_container(Settings.from_env(FAKES, env_file=None))).test_client()
    deferred = app_from(FAKES, monkeypatch, tmp_path).test_client()

    for method, path, body, headers in REQUESTS:
        expected = built.open(path, method=method, data=body, headers=headers)
        answer = deferred.open(path, method=method, data=body, headers=headers)
        assert (answer.status_code, answer.json) == (expected.status_code, expected.json), path
        assert answer.status_code < 500, path


def test_on_an_unmigrated_sqlite_file_the_app_starts_and_readiness_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    client = app_from({**FAKES, "DATABASE_URL": url}, monkeypatch, tmp_path).test_client()

    assert client.get("/healthz").status_code == 200
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "database_not_migrated"


def test_the_app_and_the_container_take_the_same_url_for_the_memory_store() -> None:
    from justdriving.adapters.sql.factory import MEMORY_DATABASE

    assert not Settings(database_url=MEMORY_DATABASE).sql_database
    assert Settings(database_url="sqlite:///app.db").sql_database
