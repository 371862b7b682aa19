"""In-memory and log adapters for every port: what development and tests run on."""

from justdriving.adapters.memory.accounting import Booked, FakeAccountingClient
from justdriving.adapters.memory.charges import FakeCharge, FakeRefund
from justdriving.adapters.memory.clock import FrozenClock, SystemClock
from justdriving.adapters.memory.fake_webhooks import SIGNATURE_HEADER, WebhookDelivery
from justdriving.adapters.memory.gateways import MemoryGatewayRegistry
from justdriving.adapters.memory.host_events import FakeHostEventSender
from justdriving.adapters.memory.messaging import (
    FakeEmailSender,
    FakeSmsSender,
    LogEmailSender,
    LogSmsSender,
)
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
    "LogEmailSender",
    "LogSmsSender",
    "MemoryGatewayRegistry",
    "MemoryStore",
    "MemoryTemplateRenderer",
    "MemoryUnitOfWork",
    "MemoryUnitOfWorkFactory",
    "MessageTemplate",
    "SystemClock",
    "WebhookDelivery",
]
