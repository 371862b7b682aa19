"""Two SMS providers, one message (adapters.sms.failover): the secondary takes exactly what the
primary certainly did not send, and never a message the primary may have sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from justdriving.adapters.memory import FakeSmsSender, FrozenClock
from justdriving.adapters.sms.failover import COOLDOWN, FailoverSmsSender
from justdriving.domain.errors import (
    InvalidInput,
    ProviderRejected,
    ProviderUnavailable,
    RecipientSuppressed,
)
from justdriving.domain.messages import SmsMessage
from justdriving.domain.people import PhoneNumber

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TO = PhoneNumber("+4520123456")


def _pair() -> tuple[FailoverSmsSender, FakeSmsSender, FakeSmsSender, FrozenClock]:
    primary, secondary = FakeSmsSender("twilio"), FakeSmsSender("gatewayapi")
    clock = FrozenClock(NOW)
    return FailoverSmsSender(primary, secondary, clock), primary, secondary, clock


def test_the_primary_sends_while_it_can() -> None:
    sender, primary, secondary, _ = _pair()

    receipt = sender.send(TO, SmsMessage("Hej", "msg_1"))

    assert receipt.provider == "twilio"
    assert (len(primary.sent), len(secondary.sent)) == (1, 0)


@pytest.mark.parametrize(
    "error",
    [
        ProviderUnavailable("twilio", "could not connect; nothing was sent"),
        ProviderUnavailable("twilio", "rate limited", provider_code="20429", retry_after=3),
        ProviderRejected("twilio", "region not enabled", provider_code="21408"),
        ProviderRejected("twilio", "not reachable by SMS", provider_code="21612"),
    ],
    ids=["down", "rate-limited", "region", "unroutable"],
)
def test_what_the_primary_certainly_did_not_send_goes_through_the_secondary_under_its_reference(
    error: Exception,
) -> None:
    sender, primary, secondary, _ = _pair()
    primary.fail_next(error)

    receipt = sender.send(TO, SmsMessage("Hej", "msg_1"))

    assert receipt.provider == "gatewayapi"  # its delivery reports come back through it
    assert [m.reference for _, m, _ in secondary.sent] == ["msg_1"]
    assert primary.sent == []


@pytest.mark.parametrize(
    "error",
    [
        ProviderUnavailable("twilio", "timed out; may have been sent", possibly_done=True),
        ProviderRejected("twilio", "not a mobile number", provider_code="21614"),
        RecipientSuppressed("twilio", "opted out", provider_code="21610"),
        InvalidInput("a bad number"),
    ],
    ids=["possibly-sent", "invalid-number", "opted-out", "invalid"],
)
def test_what_the_primary_may_have_sent_or_what_no_provider_can_send_is_raised_as_it_is(
    error: Exception,
) -> None:
    sender, primary, secondary, _ = _pair()
    primary.fail_next(error)

    with pytest.raises(type(error)):
        sender.send(TO, SmsMessage("Hej", "msg_1"))
    assert secondary.sent == []


def test_after_an_outage_the_primary_rests_for_the_cooldown_then_is_tried_again() -> None:
    sender, primary, secondary, clock = _pair()
    primary.fail_next(ProviderUnavailable("twilio", "down"))

    sender.send(TO, SmsMessage("1", "msg_1"))
    sender.send(TO, SmsMessage("2", "msg_2"))  # not asked: resting
    clock.advance(COOLDOWN)
    sender.send(TO, SmsMessage("3", "msg_3"))

    assert [m.reference for _, m, _ in secondary.sent] == ["msg_1", "msg_2"]
    assert [m.reference for _, m, _ in primary.sent] == ["msg_3"]


outcomes = st.sampled_from(["ok", "down", "possibly", "rejected", "unroutable"])


@given(st.lists(st.tuples(outcomes, st.integers(0, 120)), min_size=1, max_size=30))
def test_every_message_goes_out_at_most_once_and_a_possibly_sent_one_never_twice(
    steps: list[tuple[str, int]],
) -> None:
    """Whatever the primary does, message by message: each reference is sent by at most one
    provider; one the primary may have sent is never handed to the secondary."""
    sender, primary, secondary, clock = _pair()
    errors = {
        "down": lambda: ProviderUnavailable("twilio", "down"),
        "possibly": lambda: ProviderUnavailable("twilio", "timeout", possibly_done=True),
        "rejected": lambda: ProviderRejected("twilio", "invalid", provider_code="21211"),
        "unroutable": lambda: ProviderRejected("twilio", "region", provider_code="21408"),
    }
    possibly = set()
    for n, (outcome, seconds) in enumerate(steps):
        clock.advance(timedelta(seconds=seconds))
        if outcome in errors:
            primary.fail_next(errors[outcome]())
        reference = f"msg_{n}"
        try:
            sender.send(TO, SmsMessage("Hej", reference))
        except (ProviderUnavailable, ProviderRejected) as error:
            if getattr(error, "possibly_done", False):
                possibly.add(reference)
    by_primary = [m.reference for _, m, _ in primary.sent]
    by_secondary = [m.reference for _, m, _ in secondary.sent]
    assert len(set(by_primary + by_secondary)) == len(by_primary) + len(by_secondary)
    assert not possibly & set(by_secondary)
