"""The application wired to in-memory fakes at a frozen time, and a small world to act in."""

from __future__ import annotations

import pytest

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
)
from justdriving.application import Application
from memory_app import memory_application

from .support import NOW, World, build_world


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def gateway(clock: FrozenClock) -> FakePaymentGateway:
    return FakePaymentGateway("fake", clock=clock)


@pytest.fixture
def sms() -> FakeSmsSender:
    return FakeSmsSender()


@pytest.fixture
def email() -> FakeEmailSender:
    return FakeEmailSender()


@pytest.fixture
def app(
    store: MemoryStore,
    clock: FrozenClock,
    gateway: FakePaymentGateway,
    sms: FakeSmsSender,
    email: FakeEmailSender,
) -> Application:
    return memory_application(clock, store=store, gateway=gateway, sms=sms, email=email)


@pytest.fixture
def world(app: Application) -> World:
    return build_world(app)
