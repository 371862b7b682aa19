"""In-memory fakes and stores for every port: what development and tests run on. The
production pieces that need no provider (the system clock, the log senders, the gateway
registry) live with their capability: adapters/clock.py, sms/log.py, email/log.py,
payments/registry.py."""

from justdriving.adapters.memory.accounting import Booked, FakeAccountingClient
from justdriving.adapters.memory.charges import FakeCharge, FakeRefund
from justdriving.adapters.memory.clock import FrozenClock
from justdriving.adapters.memory.fake_webhooks import SIGNATURE_HEADER, WebhookDelivery
from justdriving.adapters.memory.host_events import FakeHostEventSender
from justdriving.adapters.memory.messaging import FakeEmailSender, FakeSmsSender
from justdriving.adapters.memory.payments import FakePaymentGateway
from justdriving.adapters.memory.persistence import (
    MemoryStore,
    MemoryUnitOfWork,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.memory.templates import MemoryTemplateRenderer, MessageTemplate

__all__ = [
    "SIGNATURE_HEADER",
    "Booked",
    "FakeAccountingClient",
    "FakeCharge",
    "FakeEmailSender",
    "FakeHostEventSender",
    "FakePaymentGateway",
    "FakeRefund",
    "FakeSmsSender",
    "FrozenClock",
    "MemoryStore",
    "MemoryTemplateRenderer",
    "MemoryUnitOfWork",
    "MemoryUnitOfWorkFactory",
    "MessageTemplate",
    "WebhookDelivery",
]
