"""Production refuses unsafe settings: plain-http URLs in any case, SMTP logins in clear, a
guessable OPS_TOKEN, a PUBLIC_BASE_URL that breaks signed callbacks. Each refusal names the
setting, and neither it nor `check-config` shows a single character of any secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from justdriving.config import OPS_TOKEN_MIN_LENGTH, Settings, is_secret_name
from justdriving.domain.errors import ConfigurationError
from justdriving.entrypoints.cli import main

# Secrets are long and unlike any word of a message, so finding any 4 of their characters in
# an output means it leaked.
GOOD_PRODUCTION = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql+psycopg://justdriving:Dbq7Vx2Lm9@db.internal:5432/justdriving",
    "PUBLIC_BASE_URL": "https://booking.example.dk",
    "PAYMENT_PROVIDER": "stripe",
    "PAYMENT_PROVIDER_KEY": "pk_live_Q8wZr4Tn6Yp2Km5Vx9Bc",
    "PAYMENT_PROVIDER_SECRET": "sk_live_J3hG7fD1sA9qW5eR2tY8uI4oP6",
    "PAYMENT_WEBHOOK_SECRET": "whsec_Mn4Bv8Cx2Zl6Kj9Hg3Fd7Sa1",
    "SMS_PROVIDER": "twilio",
    "SMS_PROVIDER_KEY": "AC9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "SMS_PROVIDER_SECRET": "Tw7Rq3Lp9Xs5Nv1Mk8Jh4Gf6Dc2",
    "SMS_FROM_NUMBER": "+4512345678",
    "MAIL_MAILER": "smtp",
    "MAIL_HOST": "smtp.example.dk",
    "MAIL_USERNAME": "postmaster",
    "MAIL_PASSWORD": "Sm9Pw4Qz7Xr2Lv5Nb8",
    "MAIL_FROM_ADDRESS": "kontor@example.dk",
    "ACCOUNTING_PROVIDER": "quickbooks",
    "ACCOUNTING_API_KEY": "Qb4Cl7Id2Zx9Wv5",
    "ACCOUNTING_API_SECRET": "Qb8Cs3Ec6Rt1Yu4Io7",
    "ACCOUNTING_TENANT_ID": "9130350000000000",
    "ACCOUNTING_TOKEN_KEY": "x3Fq0cZ7d9yJ1aVbKpLw8nT2rS5uE6hG4iO0mN3kQ1c=",
    "OPS_TOKEN": "Op7Kz2Wq9Lx4Mv8Nb3Hj6Gf1Dc5Sa0Rt",
    "PAY_LINK_SECRET": "Pl5Kx8Qw2Zr7Mn4Vb9Hj3Gf6Dc1Sa0Ty",
}


def production(**changes: str | None) -> dict[str, str]:
    env = dict(GOOD_PRODUCTION)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def secrets_of(env: dict[str, str]) -> list[str]:
    """Every secret value, and the password of every URL."""
    found = [v for n, v in env.items() if is_secret_name(n) and not n.endswith("_URL")]
    return [*found, "Dbq7Vx2Lm9"]


def leaked(env: dict[str, str], text: str) -> list[str]:
    """The secrets of `env` of which any 4 consecutive characters appear in `text`."""
    return [
        secret
        for secret in secrets_of(env)
        if any(secret[i : i + 4] in text for i in range(len(secret) - 3))
    ]


def test_the_good_production_configuration_passes() -> None:
    assert Settings.from_env(GOOD_PRODUCTION, env_file=None).production_problems() == []


REFUSALS = [
    # plain http in any case, for every API, token and callback URL
    ({"PAYMENT_API_BASE_URL": "HTTP://api.stripe.com"}, "PAYMENT_API_BASE_URL"),
    ({"PAYMENT_API_BASE_URL": "Http://api.stripe.com"}, "PAYMENT_API_BASE_URL"),
    ({"SMS_API_BASE_URL": "http://gatewayapi.eu"}, "SMS_API_BASE_URL"),
    ({"SMS_API_BASE_URL": "HTTP://api.twilio.com"}, "SMS_API_BASE_URL"),
    ({"MAIL_API_BASE_URL": "http://api.eu.mailgun.net"}, "MAIL_API_BASE_URL"),
    ({"MAIL_UNSUBSCRIBE_URL": "http://booking.example.dk/u/{reference}"}, "MAIL_UNSUBSCRIBE_URL"),
    ({"ACCOUNTING_TOKEN_URL": "http://oauth.platform.intuit.com/token"}, "ACCOUNTING_TOKEN_URL"),
    ({"ACCOUNTING_TOKEN_URL": "HTTP://identity.xero.com"}, "ACCOUNTING_TOKEN_URL"),
    ({"ACCOUNTING_API_BASE_URL": "http://quickbooks.api.intuit.com"}, "ACCOUNTING_API_BASE_URL"),
    ({"PUBLIC_BASE_URL": "HTTP://booking.example.dk"}, "PUBLIC_BASE_URL"),
    # the public URL that callbacks are built and signed on
    ({"PUBLIC_BASE_URL": "https://booking.example.dk/?tenant=1"}, "PUBLIC_BASE_URL"),
    ({"PUBLIC_BASE_URL": "https://booking.example.dk/#top"}, "PUBLIC_BASE_URL"),
    ({"PUBLIC_BASE_URL": "https://booking.example.dk?"}, "PUBLIC_BASE_URL"),
    # an SMTP login in clear
    ({"MAIL_ENCRYPTION": "none"}, "MAIL_ENCRYPTION"),
    # a guessable ops token: too short, or long but of a few characters
    ({"OPS_TOKEN": "x"}, "OPS_TOKEN"),
    ({"OPS_TOKEN": "Op7Kz2Wq9Lx4Mv8Nb3Hj6Gf1Dc5Sa0R"[: OPS_TOKEN_MIN_LENGTH - 1]}, "OPS_TOKEN"),
    ({"OPS_TOKEN": "ab" * 32}, "OPS_TOKEN"),
]


@pytest.mark.parametrize(("changes", "variable"), REFUSALS)
def test_production_refuses_an_unsafe_setting_naming_it_and_no_secret(
    changes: dict[str, str], variable: str
) -> None:
    env = production(**changes)
    settings = Settings.from_env(env, env_file=None)

    problems = settings.production_problems()

    assert len(problems) == 1, problems
    assert problems[0].startswith(variable), problems
    with pytest.raises(ConfigurationError) as refused:
        settings.check()
    shown = " ".join([str(refused.value), *refused.value.problems, repr(settings)])
    assert variable in shown
    assert leaked(env, shown) == []


@pytest.fixture
def clean_cwd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No .env of the working directory, and no variable of the real environment, counts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("cwd"))
        for name in GOOD_PRODUCTION:
            patch.delenv(name, raising=False)
        yield


@pytest.mark.usefixtures("clean_cwd")
@pytest.mark.parametrize(("changes", "variable"), REFUSALS)
def test_check_config_names_the_refused_setting_and_shows_no_secret(
    changes: dict[str, str], variable: str
) -> None:
    env = production(**changes)

    result = CliRunner().invoke(main, ["check-config"], env=env)

    assert result.exit_code == 2, result.output
    assert f"- {variable}" in result.output
    assert leaked(env, result.output) == []


@pytest.mark.usefixtures("clean_cwd")
def test_check_config_shows_that_a_secret_is_set_and_nothing_of_it() -> None:
    result = CliRunner().invoke(main, ["check-config"], env=GOOD_PRODUCTION)

    assert result.exit_code == 0, result.output
    assert "no problems" in result.output
    assert leaked(GOOD_PRODUCTION, result.output) == []
    assert "postgresql+psycopg://justdriving:***@db.internal:5432/justdriving" in result.output


@pytest.mark.parametrize(
    "changes",
    [
        {"MAIL_ENCRYPTION": "ssl"},
        {"MAIL_ENCRYPTION": "none", "MAIL_PASSWORD": None, "MAIL_USERNAME": None},
        {"PUBLIC_BASE_URL": "HTTPS://booking.example.dk/justdriving/"},
        {"SMS_API_BASE_URL": "https://gatewayapi.eu"},
        {"ACCOUNTING_TOKEN_URL": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"},
        {"OPS_TOKEN": None},
    ],
)
def test_safe_variants_still_pass(changes: dict[str, str | None]) -> None:
    assert Settings.from_env(production(**changes), env_file=None).production_problems() == []


def test_outside_production_plain_http_and_short_tokens_are_fine_for_simulators() -> None:
    env = production(
        APP_ENV="development",
        SMS_API_BASE_URL="http://127.0.0.1:8025",
        ACCOUNTING_TOKEN_URL="HTTP://127.0.0.1:8026/token",
        OPS_TOKEN="dev",
        MAIL_ENCRYPTION="none",
    )

    assert Settings.from_env(env, env_file=None).production_problems() == []


@pytest.mark.usefixtures("clean_cwd")
@pytest.mark.parametrize(
    "url",
    ["postgresql://app:Pw9Zq4Xr@db:notaport/app", "not a url", "postgresql+x://a:Pw9Zq4Xr@d/"],
)
def test_a_malformed_database_url_exits_2_naming_it_and_not_its_password(url: str) -> None:
    for command in (["check-config"], ["outbox", "list"]):
        result = CliRunner().invoke(main, command, env={"DATABASE_URL": url})

        assert result.exit_code == 2, result.output
        assert "DATABASE_URL" in result.output
        assert "Pw9Zq4Xr" not in result.output
        assert "Traceback" not in result.output


def _any_case(word: str) -> st.SearchStrategy[str]:
    return st.tuples(*(st.sampled_from([c.lower(), c.upper()]) for c in word)).map("".join)


hosts = st.from_regex(r"[a-z0-9]{1,12}(\.[a-z0-9]{1,8}){0,2}", fullmatch=True)
paths = st.from_regex(r"(/[A-Za-z0-9_.-]{0,10}){0,3}", fullmatch=True)
url_variables = st.sampled_from(
    ["SMS_API_BASE_URL", "MAIL_API_BASE_URL", "ACCOUNTING_TOKEN_URL", "ACCOUNTING_API_BASE_URL"]
)


@given(scheme=_any_case("http"), host=hosts, path=paths, variable=url_variables)
def test_plain_http_is_refused_whatever_the_case_of_its_scheme(
    scheme: str, host: str, path: str, variable: str
) -> None:
    env = production(**{variable: f"{scheme}://{host}{path}"})

    problems = Settings.from_env(env, env_file=None).production_problems()

    assert [p.split()[0] for p in problems] == [variable]


@given(scheme=_any_case("https"), host=hosts, path=paths, variable=url_variables)
def test_https_passes_whatever_the_case_of_its_scheme(
    scheme: str, host: str, path: str, variable: str
) -> None:
    env = production(**{variable: f"{scheme}://{host}{path}"})

    assert Settings.from_env(env, env_file=None).production_problems() == []
