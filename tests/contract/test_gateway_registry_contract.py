"""The gateway registry: a school's gateway by name, or an error that says why there is none."""

from __future__ import annotations

import pytest

from justdriving.adapters.memory import FakePaymentGateway, MemoryStore, MemoryUnitOfWorkFactory
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.payments.school_gateways import SchoolGateways
from justdriving.domain.errors import ConfigurationError, NotFound, PaymentNotAllowed
from justdriving.domain.ids import SchoolId
from justdriving.domain.schools import School, SchoolSettings
from justdriving.ports.payments import GatewayRegistry

FAKE = FakePaymentGateway(name="fake")


def _per_school(gateways: dict[str, FakePaymentGateway]) -> GatewayRegistry:
    """The platform's gateways with schools' own accounts on top (none stored here)."""

    def refuse(credentials: object) -> FakePaymentGateway:
        raise AssertionError("no school has an account of its own here")

    uow = MemoryUnitOfWorkFactory(MemoryStore())
    return SchoolGateways(MemoryGatewayRegistry(gateways), uow, refuse)


@pytest.fixture(
    params=[
        pytest.param(MemoryGatewayRegistry, id="memory"),
        pytest.param(_per_school, id="per-school"),
    ]
)
def registry(request: pytest.FixtureRequest) -> GatewayRegistry:
    factory = request.param
    built: GatewayRegistry = factory({"fake": FAKE})
    return built


def a_school(gateway: str | None) -> School:
    return School(id=SchoolId("sch_1"), name="Køreskolen", settings=SchoolSettings(gateway))


def test_a_school_gets_the_gateway_it_chose(registry: GatewayRegistry) -> None:
    assert registry.for_school(a_school("fake")) is FAKE
    assert registry.by_name("fake") is FAKE


def test_a_manual_only_school_is_not_allowed_online_payments(registry: GatewayRegistry) -> None:
    with pytest.raises(PaymentNotAllowed, match="manual payments only"):
        registry.for_school(a_school(None))


def test_a_gateway_that_is_not_configured_here_is_a_configuration_error_naming_it(
    registry: GatewayRegistry,
) -> None:
    with pytest.raises(ConfigurationError, match="stripe"):
        registry.for_school(a_school("stripe"))
    with pytest.raises(ConfigurationError, match="paypal"):
        registry.by_name("paypal")


def test_a_school_without_an_account_of_its_own_uses_the_platforms_and_has_no_own_url(
    registry: GatewayRegistry,
) -> None:
    assert registry.by_name("fake") is FAKE
    with pytest.raises(NotFound):
        registry.school_gateway("paypal", "sch_1")
    with pytest.raises(NotFound):
        registry.school_gateway("fake", "sch_1")


def test_a_school_may_choose_a_gateway_beside_the_platforms_default() -> None:
    """The container's registry: PAYMENT_PROVIDER's gateway is every school's default, and a
    gateway with its own settings (Vipps MobilePay) is there for a school that names it."""
    from justdriving.adapters.payments.factory import gateway_registry

    mobilepay = FakePaymentGateway(name="mobilepay")
    registry = gateway_registry(FAKE, mobilepay, None)
    assert registry.for_school(a_school("default")) is FAKE
    assert registry.for_school(a_school("mobilepay")) is mobilepay
    manual_platform = gateway_registry(None, mobilepay)
    assert manual_platform.for_school(a_school("mobilepay")) is mobilepay
    with pytest.raises(PaymentNotAllowed):
        manual_platform.for_school(a_school("default"))
