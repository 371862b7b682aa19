"""The payment plan on its own: instalments that add up to the price, due dates a month apart
(on the month's last day where it is shorter), credits in proportion to what is paid, and the
plan's verbs guarded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from justdriving.domain.errors import InvalidInput, InvalidTransition
from justdriving.domain.ids import SchoolId, StudentId
from justdriving.domain.money import Money
from justdriving.domain.plans import (
    MOST_INSTALMENTS,
    ChargeState,
    PaymentPlan,
    PlanKind,
    PlanStatus,
    add_months,
    split,
)

START = datetime(2025, 1, 31, 9, 0, tzinfo=UTC)


def plan(count: int = 3, minor: int = 300000) -> PaymentPlan:
    return PaymentPlan(
        id="plan_1",
        school_id=SchoolId("sch_1"),
        student_id=StudentId("stu_1"),
        kind=PlanKind.INSTALMENTS,
        amount=Money(minor, "DKK"),
        starts_at=START,
        description="10 x Køretime",
        created_at=START,
        count=count,
        package_id="pkg_1",
    )


@given(
    minor=st.integers(min_value=MOST_INSTALMENTS, max_value=10**12),
    parts=st.integers(min_value=2, max_value=MOST_INSTALMENTS),
)
def test_instalments_add_up_to_the_price_and_differ_by_at_most_one_minor_unit(
    minor: int, parts: int
) -> None:
    pieces = split(Money(minor, "DKK"), parts)

    assert sum(p.amount for p in pieces) == minor
    assert max(pieces).amount - min(pieces).amount <= 1
    assert pieces == sorted(pieces, reverse=True)  # the odd units first


@given(months=st.integers(min_value=0, max_value=240))
def test_a_due_date_is_a_whole_number_of_months_on_clamped_to_the_month_end(months: int) -> None:
    due = add_months(START, months)

    assert (due.year - START.year) * 12 + due.month - START.month == months
    assert due.day <= START.day
    assert due.time() == START.time()


def test_the_31st_falls_due_on_the_last_day_of_shorter_months() -> None:
    assert [add_months(START, n).day for n in range(4)] == [31, 28, 31, 30]


@given(lessons=st.integers(min_value=1, max_value=1000), count=st.integers(2, 24))
def test_credits_unlock_in_proportion_and_all_with_the_last_instalment(
    lessons: int, count: int
) -> None:
    instalments = plan(count, 10**6)
    unlocked = []
    for n in range(count):
        now = add_months(START, n)
        instalments.charge_paid(instalments.bill(f"inv_{n}", now).invoice_id, now)
        unlocked.append(instalments.credits_unlocked(lessons))

    assert unlocked == sorted(unlocked)
    assert unlocked[-1] == lessons
    assert instalments.status is PlanStatus.COMPLETED


def test_a_charge_not_due_yet_is_not_billed_and_a_paid_one_is_not_paid_again() -> None:
    instalments = plan()
    charge = instalments.bill("inv_0", START)

    with pytest.raises(InvalidTransition):
        instalments.bill("inv_1", START)
    assert instalments.charge_paid(charge.invoice_id, START) is not None
    assert instalments.charge_paid(charge.invoice_id, START) is None
    assert [e.name for e in instalments.events.drain()] == ["PlanChargePaid"]


def test_a_charge_failed_for_good_pauses_the_plan_until_it_is_paid() -> None:
    instalments = plan()
    charge = instalments.bill("inv_0", START)

    instalments.charge_declined(charge.invoice_id, True, START)
    assert instalments.status is PlanStatus.ACTIVE
    instalments.charge_declined(charge.invoice_id, False, START)

    assert (charge.state, instalments.status) == (ChargeState.FAILED, PlanStatus.PAUSED)
    assert instalments.next_due_at is None
    instalments.charge_paid(charge.invoice_id, START)
    assert instalments.status is PlanStatus.ACTIVE
    assert instalments.next_due_at == add_months(START, 1)


@pytest.mark.parametrize(
    "changes",
    [
        {"count": 1},
        {"count": MOST_INSTALMENTS + 1},
        {"count": True},
        {"amount": Money(2, "DKK")},
        {"amount": Money(0, "DKK")},
        {"description": "  "},
        {"starts_at": datetime(2025, 1, 1)},
    ],
)
def test_a_plan_that_cannot_be_is_refused(changes: dict[str, object]) -> None:
    fields = {
        "id": "plan_1",
        "school_id": SchoolId("sch_1"),
        "student_id": StudentId("stu_1"),
        "kind": PlanKind.INSTALMENTS,
        "amount": Money(300000, "DKK"),
        "starts_at": START,
        "description": "10 x Køretime",
        "created_at": START,
        "count": 3,
        **changes,
    }
    with pytest.raises(InvalidInput):
        PaymentPlan(**fields)  # type: ignore[arg-type]


def test_a_cancelled_or_completed_plan_cannot_be_cancelled() -> None:
    instalments = plan()
    instalments.cancel(START)

    with pytest.raises(InvalidTransition):
        instalments.cancel(START)
    assert instalments.next_due_at is None
