"""Payment plans are stored alike on every backend: found by id and by student, and the plans
with a charge due found by the next due date kept beside the document (earliest first, up to a
limit), which moves as charges are billed and is gone once a plan bills nothing more."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from test_persistence_contract import T0

from justdriving.domain.errors import DuplicateRecord
from justdriving.domain.ids import SchoolId, StudentId
from justdriving.domain.money import Money
from justdriving.domain.plans import PaymentPlan, PlanKind, add_months

if TYPE_CHECKING:
    from conftest import PersistenceBackend


def a_plan(id: str, start_days: int = 0, student: str = "stu_1") -> PaymentPlan:
    return PaymentPlan(
        id=id,
        school_id=SchoolId("sch_1"),
        student_id=StudentId(student),
        kind=PlanKind.INSTALMENTS,
        amount=Money(300000, "DKK"),
        starts_at=T0 + timedelta(days=start_days),
        description="10 x Køretime",
        created_at=T0,
        count=2,
        package_id="pkg_1",
    )


def test_plans_due_are_found_earliest_first_up_to_the_limit(
    persistence: PersistenceBackend,
) -> None:
    with persistence.uow() as uow:
        for id, days, student in [
            ("plan_b", 2, "stu_1"),
            ("plan_a", 1, "stu_2"),
            ("plan_c", 9, "stu_1"),
        ]:
            uow.plans.add(a_plan(id, days, student))
        uow.commit()

    with persistence.uow() as uow:
        assert [p.id for p in uow.plans.due(T0 + timedelta(days=5), 10)] == ["plan_a", "plan_b"]
        assert [p.id for p in uow.plans.due(T0 + timedelta(days=30), 1)] == ["plan_a"]
        assert uow.plans.due(T0, 10) == []
        assert sorted(p.id for p in uow.plans.for_student("sch_1", "stu_1")) == ["plan_b", "plan_c"]


def test_the_next_due_date_moves_as_charges_are_billed_and_goes_with_the_last(
    persistence: PersistenceBackend,
) -> None:
    with persistence.uow() as uow:
        uow.plans.add(a_plan("plan_a"))
        uow.commit()
    with persistence.uow() as uow:
        plan = uow.plans.get("plan_a")
        plan.bill("inv_0", T0)
        uow.commit()

    later = add_months(T0, 1)
    with persistence.uow() as uow:
        assert uow.plans.due(later - timedelta(seconds=1), 10) == []
        [plan] = uow.plans.due(later, 10)
        assert [c.invoice_id for c in plan.charges] == ["inv_0"]
        assert plan.charges[0].due_at == T0
        plan.bill("inv_1", later)
        uow.commit()
    with persistence.uow() as uow:
        assert uow.plans.due(T0 + timedelta(days=3650), 10) == []
        assert uow.plans.get("plan_a").next_due_at is None


def test_a_second_plan_with_the_same_id_is_refused(persistence: PersistenceBackend) -> None:
    with persistence.uow() as uow:
        uow.plans.add(a_plan("plan_a"))
        uow.commit()
    with persistence.uow() as uow, pytest.raises(DuplicateRecord):
        uow.plans.add(a_plan("plan_a"))
    with persistence.uow() as uow:
        assert uow.plans.get("plan_a").charges == []
