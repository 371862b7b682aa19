"""Payments fed by duplicated, reordered provider events; refunds never above the capture."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from justdriving.domain.errors import InvalidInput, InvalidTransition, RefundExceedsCaptured
from justdriving.domain.events import PaymentHeldForReview, PaymentSucceeded
from justdriving.domain.ids import RefundId
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import EventOutcome, Payment, PaymentStatus
from justdriving.domain.refunds import Refund, RefundStatus

from .builders import NOW, captured_payment, cash_payment, dkk, online_payment

AMOUNT = dkk("500.00")
K = PaymentEventKind
# Everything a gateway may say about one payment that does not end it.
ON_THE_WAY = [K.REQUIRES_ACTION, K.FAILED, K.PROCESSING, K.AUTHORIZED]


def _event(
    kind: PaymentEventKind, minute: int = 0, amount: Money | None = AMOUNT, n: int = 0
) -> ProviderPaymentEvent:
    return ProviderPaymentEvent(
        provider="stripe",
        event_id=f"evt_{kind.value}_{minute}_{n}",
        kind=kind,
        occurred_at=NOW + timedelta(minutes=minute),
        raw_type=kind.value,
        payment_id="pay_1",
        amount=amount,
        failure_code="card_declined" if kind is K.FAILED else None,
    )


@st.composite
def deliveries_of_a_successful_payment(draw: st.DrawFn) -> list[ProviderPaymentEvent]:
    """A lifecycle ending in success, each event sent 1 to 3 times, all in any order."""
    steps = [*draw(st.lists(st.sampled_from(ON_THE_WAY), max_size=6)), K.SUCCEEDED]
    lifecycle = [_event(kind, minute) for minute, kind in enumerate(steps)]
    copies = [draw(st.integers(1, 3)) for _ in lifecycle]
    deliveries = [e for e, times in zip(lifecycle, copies, strict=True) for _ in range(times)]
    return draw(st.permutations(deliveries))


class TestProviderEvents:
    @given(deliveries_of_a_successful_payment())
    def test_any_ordering_of_a_lifecycle_that_succeeded_ends_succeeded_and_captured_once(
        self, deliveries
    ):
        payment = online_payment(AMOUNT)

        for event in deliveries:
            payment.apply(event)

        assert payment.status is PaymentStatus.SUCCEEDED
        assert payment.captured == AMOUNT
        succeeded = [e for e in payment.events.pending if isinstance(e, PaymentSucceeded)]
        assert len(succeeded) == 1

    @pytest.mark.parametrize("late", [K.FAILED, K.REQUIRES_ACTION, K.PROCESSING, K.CANCELED])
    def test_a_late_event_never_downgrades_a_succeeded_payment(self, late):
        payment = online_payment(AMOUNT)
        payment.apply(_event(K.SUCCEEDED, minute=1))

        outcome = payment.apply(_event(late, minute=2))

        assert outcome is EventOutcome.IGNORED
        assert payment.status is PaymentStatus.SUCCEEDED
        assert payment.captured == AMOUNT

    def test_a_repeated_success_is_ignored(self):
        payment = online_payment(AMOUNT)
        payment.apply(_event(K.SUCCEEDED))

        assert payment.apply(_event(K.SUCCEEDED)) is EventOutcome.IGNORED
        assert len(payment.events.pending) == 1

    def test_a_retry_after_a_declined_card_can_still_succeed(self):
        payment = online_payment(AMOUNT)
        payment.apply(_event(K.FAILED, minute=1))
        assert payment.status is PaymentStatus.FAILED
        assert payment.failure_reason == "card_declined"

        payment.apply(_event(K.REQUIRES_ACTION, minute=2))
        payment.apply(_event(K.SUCCEEDED, minute=3))

        assert payment.status is PaymentStatus.SUCCEEDED

    def test_an_older_decline_delivered_after_a_newer_retry_changes_nothing(self):
        payment = online_payment(AMOUNT)
        payment.apply(_event(K.REQUIRES_ACTION, minute=2))

        assert payment.apply(_event(K.FAILED, minute=1)) is EventOutcome.IGNORED
        assert payment.status is PaymentStatus.REQUIRES_ACTION

    def test_a_stale_event_never_overrides_newer_news_of_the_same_standing(self):
        # Declined at 0, declined again at 2; the requires_action of minute 1 arrives last.
        payment = online_payment(AMOUNT)
        payment.apply(_event(K.FAILED, minute=0))
        payment.apply(_event(K.FAILED, minute=2, n=1))

        payment.apply(_event(K.REQUIRES_ACTION, minute=1))

        assert payment.status is PaymentStatus.FAILED

    def test_a_bank_payment_that_fails_after_processing_is_failed(self):
        # Stripe: bank debits sit in `processing` for days, then may fail
        # (payment_intent.payment_failed, back to requires_payment_method).
        payment = online_payment(AMOUNT)
        payment.apply(_event(K.PROCESSING, minute=1))

        payment.apply(_event(K.FAILED, minute=60 * 24 * 3))

        assert payment.status is PaymentStatus.FAILED

    def test_events_we_do_not_handle_are_ignored(self):
        payment = online_payment(AMOUNT)

        assert payment.apply(_event(K.DISPUTE_OPENED)) is EventOutcome.IGNORED
        assert payment.apply(_event(K.UNKNOWN)) is EventOutcome.IGNORED
        assert payment.status is PaymentStatus.PENDING


class TestAmountChecks:
    @pytest.mark.parametrize(
        "reported", [dkk("499.99"), dkk("5000.00"), Money(50_000, "EUR"), Money(500, "JPY")]
    )
    @pytest.mark.parametrize("kind", [K.SUCCEEDED, K.AUTHORIZED])
    def test_an_amount_or_currency_other_than_expected_is_held_for_review_not_captured(
        self, kind, reported
    ):
        payment = online_payment(AMOUNT)

        outcome = payment.apply(_event(kind, amount=reported))

        assert outcome is EventOutcome.HELD
        assert payment.status is PaymentStatus.HELD_FOR_REVIEW
        assert payment.captured == Money.zero("DKK")
        assert isinstance(payment.events.pending[-1], PaymentHeldForReview)

    def test_a_held_payment_is_not_captured_by_a_later_matching_success(self):
        payment = online_payment(AMOUNT)
        payment.apply(_event(K.SUCCEEDED, minute=1, amount=dkk("1.00")))

        payment.apply(_event(K.SUCCEEDED, minute=2))

        assert payment.status is PaymentStatus.HELD_FOR_REVIEW
        assert payment.captured == Money.zero("DKK")

    @pytest.mark.parametrize("kind", [K.SUCCEEDED, K.AUTHORIZED])
    def test_an_event_that_states_no_amount_is_held_for_review_never_trusted(self, kind):
        payment = online_payment(AMOUNT)

        outcome = payment.apply(_event(kind, amount=None))

        assert outcome is EventOutcome.HELD
        assert payment.status is PaymentStatus.HELD_FOR_REVIEW
        assert payment.captured == Money.zero("DKK")
        assert payment.failure_reason == f"provider reported no amount, expected {AMOUNT}"
        assert [type(e) for e in payment.events.pending] == [PaymentHeldForReview]

    def test_an_authorized_hold_then_its_capture_for_the_amount_succeeds(self):
        payment = online_payment(AMOUNT)
        payment.apply(_event(K.AUTHORIZED, minute=1))

        outcome = payment.apply(_event(K.SUCCEEDED, minute=2))

        assert outcome is EventOutcome.APPLIED
        assert (payment.status, payment.captured) == (PaymentStatus.SUCCEEDED, AMOUNT)


class TestTheSender:
    @pytest.mark.parametrize("kind", [*ON_THE_WAY, K.SUCCEEDED, K.CANCELED])
    def test_an_event_from_another_provider_changes_nothing(self, kind):
        payment = online_payment(AMOUNT, provider="paypal")

        outcome = payment.apply(_event(kind))

        assert outcome is EventOutcome.IGNORED
        assert (payment.status, payment.status_at) == (PaymentStatus.PENDING, None)
        assert payment.captured == Money.zero("DKK")
        assert payment.events.pending == []

    def test_a_payment_no_provider_holds_takes_no_event(self):
        payment = online_payment(AMOUNT)
        payment.provider = None

        assert payment.apply(_event(K.SUCCEEDED)) is EventOutcome.IGNORED
        assert payment.status is PaymentStatus.PENDING

    def test_a_cash_payment_takes_no_provider_event(self):
        payment = cash_payment(AMOUNT)

        assert payment.apply(_event(K.SUCCEEDED)) is EventOutcome.IGNORED
        assert payment.status is PaymentStatus.PENDING


class TestManualPayments:
    def test_a_cash_payment_succeeds_at_once_for_its_full_amount(self):
        payment = cash_payment(AMOUNT)

        payment.record_manual(NOW, reference="receipt 17")

        assert payment.status is PaymentStatus.SUCCEEDED
        assert payment.captured == AMOUNT
        assert payment.reference == "receipt 17"
        assert payment.events.pending == [
            PaymentSucceeded(NOW, payment.id, AMOUNT, school_id=payment.school_id)
        ]

    def test_a_manual_payment_cannot_be_recorded_twice(self):
        payment = captured_payment(AMOUNT)

        with pytest.raises(InvalidTransition):
            payment.record_manual(NOW)
        assert len(payment.events.pending) == 1

    def test_an_online_payment_cannot_be_recorded_by_staff(self):
        payment = online_payment(AMOUNT)

        with pytest.raises(InvalidInput):
            payment.record_manual(NOW)
        assert payment.status is PaymentStatus.PENDING

    @pytest.mark.parametrize("amount", ["0.00", "-1.00"])
    def test_a_payment_is_a_positive_amount(self, amount):
        with pytest.raises(InvalidInput):
            online_payment(dkk(amount))


class PaymentFedByAGateway(RuleBasedStateMachine):
    """A gateway sending events for one payment, duplicated and out of order."""

    sent = Bundle("sent")

    def __init__(self) -> None:
        super().__init__()
        self.payment = online_payment(AMOUNT)
        self.history: list[PaymentStatus] = [self.payment.status]

    @rule(
        target=sent,
        kind=st.sampled_from([*ON_THE_WAY, K.SUCCEEDED, K.CANCELED]),
        minute=st.integers(0, 60),
    )
    def send(self, kind: PaymentEventKind, minute: int) -> ProviderPaymentEvent:
        event = _event(kind, minute)
        self.payment.apply(event)
        self.history.append(self.payment.status)
        return event

    @rule(event=sent)
    def send_again(self, event: ProviderPaymentEvent) -> None:
        before = (self.payment.status, self.payment.status_at, len(self.payment.events.pending))

        outcome = self.payment.apply(event)

        assert outcome is EventOutcome.IGNORED
        after = (self.payment.status, self.payment.status_at, len(self.payment.events.pending))
        assert after == before

    @invariant()
    def a_status_never_moves_back(self) -> None:
        ranks = [status.rank for status in self.history]
        assert ranks == sorted(ranks)

    @invariant()
    def a_final_status_never_changes(self) -> None:
        finals = [status for status in self.history if status.is_final]
        assert all(status is finals[0] for status in finals)

    @invariant()
    def money_is_captured_exactly_when_it_succeeded(self) -> None:
        expected = AMOUNT if self.payment.status is PaymentStatus.SUCCEEDED else Money.zero("DKK")
        assert self.payment.captured == expected


PaymentFedByAGateway.TestCase.settings = settings(max_examples=100, stateful_step_count=30)
TestPaymentFedByAGateway = PaymentFedByAGateway.TestCase


class TestRefunds:
    def test_a_refund_reserves_its_amount_until_it_ends(self):
        payment = captured_payment(AMOUNT)

        refund = Refund.against(
            payment, id=RefundId("re_1"), amount=dkk("300.00"), reason="cancelled", now=NOW
        )

        assert refund.status is RefundStatus.PENDING
        assert payment.refundable == dkk("200.00")
        with pytest.raises(RefundExceedsCaptured):
            Refund.against(payment, id=RefundId("re_2"), amount=dkk("200.01"), reason="", now=NOW)

    def test_a_failed_refund_releases_its_reservation(self):
        payment = captured_payment(AMOUNT)
        refund = Refund.against(payment, id=RefundId("re_1"), amount=AMOUNT, reason="", now=NOW)

        assert refund.fail(payment, NOW, "insufficient_funds")

        assert refund.status is RefundStatus.FAILED
        assert payment.refundable == AMOUNT
        assert payment.refunded == Money.zero("DKK")
        Refund.against(payment, id=RefundId("re_2"), amount=AMOUNT, reason="", now=NOW)

    def test_a_canceled_refund_releases_its_reservation_too(self):
        payment = captured_payment(AMOUNT)
        refund = Refund.against(payment, id=RefundId("re_1"), amount=AMOUNT, reason="", now=NOW)

        refund.fail(payment, NOW, None, canceled=True)

        assert refund.status is RefundStatus.CANCELED
        assert payment.refundable == AMOUNT

    def test_a_succeeded_refund_is_booked_once_however_often_it_is_reported(self):
        payment = captured_payment(AMOUNT)
        refund = Refund.against(payment, id=RefundId("re_1"), amount=AMOUNT, reason="", now=NOW)

        assert refund.succeed(payment, NOW)
        assert not refund.succeed(payment, NOW)
        assert not refund.fail(payment, NOW, "late")

        assert refund.status is RefundStatus.SUCCEEDED
        assert payment.refunded == AMOUNT
        assert payment.refund_reserved == Money.zero("DKK")

    def test_a_payment_that_has_not_succeeded_cannot_be_refunded(self):
        payment = online_payment(AMOUNT)

        with pytest.raises(InvalidTransition):
            Refund.against(payment, id=RefundId("re_1"), amount=AMOUNT, reason="", now=NOW)

    @pytest.mark.parametrize("amount", ["0.00", "-1.00"])
    def test_a_refund_is_a_positive_amount(self, amount):
        payment = captured_payment(AMOUNT)

        with pytest.raises(InvalidInput):
            Refund.against(payment, id=RefundId("re_1"), amount=dkk(amount), reason="", now=NOW)
        assert payment.refundable == AMOUNT


class RefundsOfOnePayment(RuleBasedStateMachine):
    """Staff asking for refunds while the gateway reports some succeeded and some failed."""

    def __init__(self) -> None:
        super().__init__()
        self.payment: Payment = captured_payment(AMOUNT)
        self.refunds: list[Refund] = []

    @rule(minor_units=st.integers(1, 60_000))
    def ask_for_a_refund(self, minor_units: int) -> None:
        amount, room = Money(minor_units, "DKK"), self.payment.refundable
        before = (self.payment.refunded, self.payment.refund_reserved)
        try:
            refund = Refund.against(
                self.payment,
                id=RefundId(f"re_{len(self.refunds)}"),
                amount=amount,
                reason="",
                now=NOW,
            )
        except RefundExceedsCaptured:
            assert amount > room
            assert (self.payment.refunded, self.payment.refund_reserved) == before
            return
        assert amount <= room
        self.refunds.append(refund)

    @rule(data=st.data(), succeeded=st.booleans())
    def gateway_reports_an_outcome(self, data: st.DataObject, succeeded: bool) -> None:
        if not self.refunds:
            return
        refund = data.draw(st.sampled_from(self.refunds))
        ended = refund.status is not RefundStatus.PENDING
        changed = (
            refund.succeed(self.payment, NOW)
            if succeeded
            else refund.fail(self.payment, NOW, "declined")
        )
        assert changed is not ended

    @invariant()
    def refunds_never_exceed_what_was_captured(self) -> None:
        p = self.payment
        assert Money.zero("DKK") <= p.refunded + p.refund_reserved <= p.captured

    @invariant()
    def the_payment_books_exactly_its_refunds(self) -> None:
        def amount_in(status: RefundStatus) -> Money:
            return sum((r.amount for r in self.refunds if r.status is status), Money.zero("DKK"))

        assert self.payment.refunded == amount_in(RefundStatus.SUCCEEDED)
        assert self.payment.refund_reserved == amount_in(RefundStatus.PENDING)


RefundsOfOnePayment.TestCase.settings = settings(max_examples=100, stateful_step_count=30)
TestRefundsOfOnePayment = RefundsOfOnePayment.TestCase
