"""A school's own PayPal account: set, replaced, shown without its secret; refused with nothing
stored for an unknown school, malformed credentials, or (in production without
ACCOUNTING_TOKEN_KEY) a secret that would be stored unencrypted."""

from __future__ import annotations

import pytest

from justdriving.adapters.memory import MemoryStore, MemoryUnitOfWorkFactory
from justdriving.config import AppEnv, Settings
from justdriving.container import Container, build_container
from justdriving.domain.errors import ConfigurationError, InvalidInput, NotFound
from justdriving.domain.gateway_credentials import GatewayCredentials
from justdriving.domain.services.registration import Registration
from justdriving.domain.services.school_accounts import SchoolAccounts

ACCOUNT = ("AbNorthClient0000000001", "EbNorthSecret000000000001", "WHNORTH0000000001")
OTHER = ("AbNorthClient0000000009", "EbNorthSecret000000000009", "WHNORTH0000000009")


def _school(store: MemoryStore) -> tuple[MemoryUnitOfWorkFactory, str]:
    uow = MemoryUnitOfWorkFactory(store)
    return uow, Registration(uow).register_school("Køreskolen Nord").id


def test_credentials_are_set_replaced_and_shown_without_the_secret() -> None:
    uow, school_id = _school(MemoryStore())
    accounts = SchoolAccounts(uow)

    accounts.set_school_paypal(school_id, *ACCOUNT)
    shown = accounts.set_school_paypal(school_id, *OTHER)

    assert accounts.school_paypal(school_id) == shown
    assert (shown.client_id, shown.webhook_id) == (OTHER[0], OTHER[2])
    assert OTHER[1] not in repr(shown)
    with uow() as opened:
        stored = opened.gateway_credentials.get(GatewayCredentials.key("paypal", school_id))
    assert stored.client_secret == OTHER[1]
    assert OTHER[1] not in repr(stored)


@pytest.mark.parametrize(
    ("school", "account", "unsealed", "refused"),
    [
        ("sch_unknown", ACCOUNT, False, NotFound),
        (None, ("AbNorthClient 001", ACCOUNT[1], ACCOUNT[2]), False, InvalidInput),
        (None, (ACCOUNT[0], ACCOUNT[1] + "\n", ACCOUNT[2]), False, InvalidInput),
        (None, (ACCOUNT[0], ACCOUNT[1], "WH"), False, InvalidInput),
        (None, ACCOUNT, True, ConfigurationError),
    ],
)
def test_a_refusal_stores_nothing_and_never_quotes_the_secret(
    school: str | None, account: tuple[str, str, str], unsealed: bool, refused: type[Exception]
) -> None:
    store = MemoryStore()
    uow, school_id = _school(store)
    before = store.counts()

    with pytest.raises(refused) as raised:
        SchoolAccounts(uow, unsealed=unsealed).set_school_paypal(school or school_id, *account)

    assert account[1].strip() not in str(raised.value)
    assert store.counts() == before
    assert SchoolAccounts(uow).school_paypal(school_id) is None


def test_production_without_a_token_key_takes_no_paypal_secret() -> None:
    settings = Settings(app_env=AppEnv.PRODUCTION, database_url="memory://")
    app = build_container(Settings(database_url="memory://")).application()
    school = app.register_school("Køreskolen Nord")
    assert app.set_school_paypal(school.id, *ACCOUNT).client_id == ACCOUNT[0]  # development

    container = Container(settings=settings)
    container.config.from_dict({"database": "memory", "database_url": "memory://"})
    production = container.application()
    school = production.register_school("Køreskolen Syd")
    with pytest.raises(ConfigurationError, match="ACCOUNTING_TOKEN_KEY"):
        production.set_school_paypal(school.id, *ACCOUNT)
    assert production.school_paypal(school.id) is None
