"""The application on in-memory fakes, as most tests want it: one place that wires it."""

from __future__ import annotations

from collections.abc import Iterable

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.services.views.money_rows import Redact
from justdriving.ports.documents import PayLinks
from justdriving.ports.host_events import HostEventSender
from justdriving.ports.messaging import TemplateRenderer
from justdriving.ports.persistence import UnitOfWorkFactory


def memory_application(
    clock: FrozenClock,
    *,
    uow: UnitOfWorkFactory | None = None,
    store: MemoryStore | None = None,
    gateway: FakePaymentGateway | None = None,
    sms: FakeSmsSender | None = None,
    email: FakeEmailSender | None = None,
    host_events: HostEventSender | None = None,
    host_event_topics: Iterable[str] | None = None,
    redact: Redact | None = None,
    renderer: TemplateRenderer | None = None,
    pay_links: PayLinks | None = None,
    staff_alert_email: str | None = None,
    ops_base_url: str | None = None,
    connect: bool = False,
) -> Application:
    """Fakes for every provider (the fake gateway on `clock`); memory:// unless `uow` is given.
    `connect`: the fake gateway in Connect mode (each school's payments on its own account)."""
    return Application(
        uow=uow or MemoryUnitOfWorkFactory(store or MemoryStore()),
        clock=clock,
        gateways=MemoryGatewayRegistry(
            {"fake": gateway or FakePaymentGateway(clock=clock)},
            connected={"fake"} if connect else (),
        ),
        sms=sms or FakeSmsSender(),
        email=email or FakeEmailSender(),
        renderer=renderer or MemoryTemplateRenderer(),
        pay_links=pay_links,
        staff_alert_email=staff_alert_email,
        ops_base_url=ops_base_url,
        host_events=host_events,
        host_event_topics=host_event_topics,
        redact=redact,
    )
