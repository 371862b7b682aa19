"""STRIPE_CONNECT: off, today's single-account mode is unchanged; on, schools' payments go to
their connected accounts, Connect events have their own route and secret, and production
refuses it half-configured."""

from __future__ import annotations

import pytest
from test_config_production import production

from justdriving.adapters.memory import FakePaymentGateway
from justdriving.adapters.payments.factory import gateway_registry, stripe_gateway
from justdriving.config import Settings
from justdriving.domain.connect import ConnectedAccount
from justdriving.domain.errors import ChargesNotEnabled, ConfigurationError
from justdriving.domain.ids import SchoolId
from justdriving.domain.schools import School

STRIPE = {
    "PAYMENT_PROVIDER": "stripe",
    "PAYMENT_PROVIDER_SECRET": "sk_test_settings",
    "PAYMENT_WEBHOOK_SECRET": "whsec_platform",
}


def _school(account: ConnectedAccount | None = None) -> School:
    return School(id=SchoolId("sch_1"), name="Køreskolen Øst", connected_account=account)


def test_without_connect_a_school_pays_on_the_platforms_account_as_before() -> None:
    settings = Settings.from_env(STRIPE, env_file=None)
    registry = gateway_registry(stripe_gateway(settings), settings=settings)

    gateway = registry.for_school(_school())

    assert gateway.account is None
    with pytest.raises(ConfigurationError):
        registry.by_name("stripe-connect")
    with pytest.raises(ConfigurationError):
        registry.connect_for(_school())


def test_with_connect_a_school_pays_on_its_account_once_charges_are_enabled() -> None:
    settings = Settings.from_env(
        {**STRIPE, "STRIPE_CONNECT": "1", "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_connect"},
        env_file=None,
    )
    registry = gateway_registry(stripe_gateway(settings), settings=settings)
    enabled = ConnectedAccount("acct_1PgafTB7WZ01zgkW", charges_enabled=True)

    assert registry.for_school(_school(enabled)).account == "acct_1PgafTB7WZ01zgkW"
    assert registry.by_name("stripe-connect").name == "stripe"  # its payments are stripe's
    with pytest.raises(ChargesNotEnabled):
        registry.for_school(_school())
    with pytest.raises(ChargesNotEnabled):
        registry.for_school(_school(ConnectedAccount("acct_1PgafTB7WZ01zgkW")))


def test_connect_without_its_webhook_secret_names_the_setting() -> None:
    settings = Settings.from_env({**STRIPE, "STRIPE_CONNECT": "1"}, env_file=None)

    with pytest.raises(ConfigurationError) as refused:
        gateway_registry(stripe_gateway(settings), settings=settings)

    assert "STRIPE_CONNECT_WEBHOOK_SECRET" in str(refused.value.problems)


def test_the_fake_gateway_ignores_stripe_connect() -> None:
    settings = Settings.from_env({"STRIPE_CONNECT": "1"}, env_file=None)

    registry = gateway_registry(FakePaymentGateway(), settings=settings)

    assert registry.for_school(_school()).account is None


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"STRIPE_CONNECT": "1"}, "STRIPE_CONNECT_WEBHOOK_SECRET"),
        (
            {
                "STRIPE_CONNECT": "1",
                "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_Cn4Bv8Cx2Zl6Kj9Hg3Fd7Sa1",
                "PAYMENT_PROVIDER": "paypal",
                "PAYMENT_PROVIDER_KEY": "paypal-client",
            },
            "STRIPE_CONNECT is on but PAYMENT_PROVIDER is not stripe",
        ),
    ],
)
def test_production_refuses_connect_half_configured(changes: dict[str, str], problem: str) -> None:
    settings = Settings.from_env(production(**changes), env_file=None)

    assert any(problem in p for p in settings.production_problems())


def test_production_takes_connect_configured() -> None:
    env = production(
        STRIPE_CONNECT="1", STRIPE_CONNECT_WEBHOOK_SECRET="whsec_Cn4Bv8Cx2Zl6Kj9Hg3Fd7Sa1"
    )

    assert Settings.from_env(env, env_file=None).production_problems() == []
