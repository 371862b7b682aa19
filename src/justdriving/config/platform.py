"""The platform: environment, database, public URL, debug mode and the ops page's token."""

import enum
from pathlib import Path
from typing import Final

from attrs import field, frozen

from justdriving.config.fields import between, not_https, secret, str_tuple, url
from justdriving.domain.contact import EmailAddress


class AppEnv(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


# OPS_TOKEN in production: at least this many characters, this many of them different
# (`python -c "import secrets; print(secrets.token_urlsafe(32))"` makes 43 of ~60 kinds).
OPS_TOKEN_MIN_LENGTH: Final = 32
OPS_TOKEN_MIN_DISTINCT: Final = 10
DEVELOPMENT_PAY_LINK_SECRET: Final = "justdriving development pay links: not a secret"  # noqa: S105
# DATABASE_URL of a store inside the process (tests, demos): no SQL database at all.
MEMORY_DATABASE: Final = "memory://"


def _an_email(_instance: object, _attribute: object, value: str | None) -> None:
    """An email address (ValueError otherwise: Settings.from_env names the variable)."""
    if value is not None:
        EmailAddress(value)


@frozen(kw_only=True, slots=False)
class PlatformSettings:
    """APP_ENV, DATABASE_URL, PUBLIC_BASE_URL, DEBUG, ALLOW_SQLITE_IN_PRODUCTION, OPS_TOKEN,
    API_TOKEN, RETURN_URL_HOSTS, TRUSTED_PROXY_HOPS, PAY_LINK_SECRET, PAY_LINK_DAYS,
    STAFF_ALERT_EMAIL."""

    app_env: AppEnv = AppEnv.DEVELOPMENT
    database_url: str | None = url()
    public_base_url: str | None = None
    # Added by justdriving: Flask's debug mode (production refuses it), and the explicit
    # permission to run production on SQLite (one machine, on purpose).
    debug: bool = False
    allow_sqlite_in_production: bool = False
    ops_token: str | None = secret()
    # Added by justdriving: the bearer token a host application sends to `/api` under
    # `justdriving serve` (unset: `/api` refuses every request there), and the hosts a
    # checkout's return_url may point at besides PUBLIC_BASE_URL's (comma separated).
    api_token: str | None = secret()
    return_url_hosts: tuple[str, ...] = field(default=(), converter=str_tuple)
    # Added by justdriving: how many reverse proxies (TLS terminators) stand in front of the
    # web app and set X-Forwarded-For/-Proto/-Host/-Port (werkzeug's ProxyFix trusts that
    # many hops); 0 trusts none. With it, a request that came in over HTTPS is secure, so
    # the ops page's cookie is `Secure`.
    trusted_proxy_hops: int = field(default=0, validator=between(0, 5))
    # Added by justdriving: the key pay links are signed with (required in production;
    # elsewhere a fixed development key), and how many days a pay link stays valid.
    pay_link_secret: str | None = secret()
    pay_link_days: int = field(default=90, validator=between(1, 3660))
    # Added by justdriving: where staff alerts go for a school without a contact address.
    staff_alert_email: str | None = field(default=None, validator=_an_email)

    @property
    def effective_database_url(self) -> str:
        """DATABASE_URL, or the SQLite file justdriving.db in the current working directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path.cwd() / 'justdriving.db'}"

    @property
    def sql_database(self) -> bool:
        """Whether the data is in a SQL database: anything but DATABASE_URL=memory://."""
        return self.effective_database_url != MEMORY_DATABASE

    @property
    def effective_pay_link_secret(self) -> str:
        """PAY_LINK_SECRET, or (outside production, which refuses to start without one) a
        fixed development key: links made by the worker open on every web process."""
        return self.pay_link_secret or DEVELOPMENT_PAY_LINK_SECRET

    @property
    def is_production(self) -> bool:
        return self.app_env is AppEnv.PRODUCTION

    def platform_in_production(self) -> list[str]:
        """A public https URL without query or fragment, DEBUG off, PostgreSQL (unless
        ALLOW_SQLITE_IN_PRODUCTION), a PAY_LINK_SECRET, and an OPS_TOKEN, if set, that resists
        guessing."""
        problems = self._public_url_problems()
        if self.debug:
            problems.append("DEBUG is on; production must run with DEBUG=false")
        if not self.allow_sqlite_in_production:
            problems += self._sqlite_problems()
        secret_key = self.pay_link_secret
        if not secret_key or len(secret_key) < OPS_TOKEN_MIN_LENGTH:
            problems.append(
                f"PAY_LINK_SECRET is missing or shorter than {OPS_TOKEN_MIN_LENGTH} characters; "
                "production signs pay links with it (e.g. python -c "
                '"import secrets; print(secrets.token_urlsafe(32))")'
            )
        token = self.ops_token
        if token is not None and (
            len(token) < OPS_TOKEN_MIN_LENGTH or len(set(token)) < OPS_TOKEN_MIN_DISTINCT
        ):
            problems.append(
                f"OPS_TOKEN is too weak: production needs at least {OPS_TOKEN_MIN_LENGTH} "
                f"characters, {OPS_TOKEN_MIN_DISTINCT} of them different (e.g. python -c "
                '"import secrets; print(secrets.token_urlsafe(32))")'
            )
        return problems

    def _public_url_problems(self) -> list[str]:
        base = self.public_base_url
        if not base:
            return ["PUBLIC_BASE_URL is not set; production needs its https:// URL"]
        problems = not_https(PUBLIC_BASE_URL=base)
        if "?" in base or "#" in base:
            problems.append(
                "PUBLIC_BASE_URL must have no query string or fragment: callback URLs are "
                "built on it, and providers sign them as they are"
            )
        return problems

    def _sqlite_problems(self) -> list[str]:
        if not self.database_url:
            return [
                "DATABASE_URL is not set; production must not use the default SQLite file "
                "(or set ALLOW_SQLITE_IN_PRODUCTION=true)"
            ]
        if self.database_url.lower().startswith("sqlite"):
            return [
                "DATABASE_URL points to SQLite; production needs PostgreSQL "
                "(or set ALLOW_SQLITE_IN_PRODUCTION=true)"
            ]
        return []
