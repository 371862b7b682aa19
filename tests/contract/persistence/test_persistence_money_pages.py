"""The money read model's pages: invoices, payments and disputes, newest first, one page at
a time, filtered by school, student and status, alike on every backend."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from test_persistence_contract import SCHOOL, T0, a_payment, an_invoice, ids

from justdriving.domain.disputes import Dispute
from justdriving.domain.ids import DisputeId, PaymentId, SchoolId, new_id
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.payments import PaymentStatus

if TYPE_CHECKING:
    from conftest import PersistenceBackend

OTHER = SchoolId("sch_other")


def test_invoice_pages_are_drafts_then_newest_issued_first_filtered_and_bounded(
    persistence: PersistenceBackend,
) -> None:
    issued = [an_invoice() for _ in range(4)]
    for n, invoice in enumerate(issued):
        invoice.issue(f"2025-{n + 1:04d}", T0 + timedelta(hours=n), timedelta(days=14))
    draft = an_invoice()
    someone_else = an_invoice(student="stu_2")
    someone_else.issue("2025-0099", T0 - timedelta(days=1), timedelta(days=14))
    elsewhere = an_invoice()
    elsewhere.school_id = OTHER
    issued[0].void(T0 + timedelta(days=1))
    with persistence.uow() as uow:
        for invoice in (*issued, draft, someone_else, elsewhere):
            uow.invoices.add(invoice)
        uow.commit()
    newest = [issued[3].id, issued[2].id, issued[1].id, issued[0].id]
    with persistence.uow() as uow:
        everything = ids(uow.invoices.recent(10))
        assert everything[:2] in ([draft.id, elsewhere.id], [elsewhere.id, draft.id])
        assert everything[2:] == [*newest, someone_else.id]
        assert ids(uow.invoices.recent(2, 1, school_id=SCHOOL)) == newest[:2]
        assert ids(uow.invoices.recent(2, 3, school_id=SCHOOL)) == newest[2:]
        assert ids(uow.invoices.recent(10, 6, school_id=SCHOOL)) == []
        assert ids(uow.invoices.recent(1, school_id=SCHOOL)) == [draft.id]
        assert ids(uow.invoices.recent(10, student_id="stu_2")) == [someone_else.id]
        voided = uow.invoices.recent(10, statuses=[InvoiceStatus.VOID])
        assert ids(voided) == [issued[0].id]
        open_ = uow.invoices.recent(10, school_id=SCHOOL, statuses=["open", "partially_paid"])
        assert ids(open_) == [*newest[:3], someone_else.id]
        due_later = uow.invoices.recent(10, statuses=["open"], due_from=T0 + timedelta(days=14))
        assert ids(due_later) == newest[:3]  # due 14 days after issue, from T0 + 1 h on
        not_due = uow.invoices.recent(10, due_from=T0 + timedelta(days=14, hours=2))
        assert ids(not_due)[:2] in ([draft.id, elsewhere.id], [elsewhere.id, draft.id])
        assert ids(not_due)[2:] == [issued[3].id, issued[2].id]
        overdue = uow.invoices.recent(
            10, statuses=["open"], due_before=T0 + timedelta(days=14, hours=2)
        )
        assert ids(overdue) == [issued[1].id, someone_else.id]
        found = uow.invoices.by_number(SCHOOL, "2025-0002")
        assert found is not None
        assert found.id == issued[1].id
        assert uow.invoices.by_number(OTHER, "2025-0002") is None


def test_payment_pages_are_newest_first_filtered_by_school_student_and_status(
    persistence: PersistenceBackend,
) -> None:
    made = []
    for n in range(5):
        payment = a_payment(student="stu_1" if n % 2 else "stu_2")
        payment.created_at = T0 + timedelta(minutes=n)
        made.append(payment)
    elsewhere = a_payment()
    elsewhere.id = PaymentId(new_id("pay"))
    elsewhere.school_id = OTHER
    elsewhere.created_at = T0 + timedelta(days=1)
    with persistence.uow() as uow:
        for payment in (*made, elsewhere):
            uow.payments.add(payment)
        uow.commit()
    with persistence.uow() as uow:
        newest = [p.id for p in reversed(made)]
        assert ids(uow.payments.recent(3)) == [elsewhere.id, *newest[:2]]
        assert ids(uow.payments.recent(3, 3, school_id=SCHOOL)) == newest[3:]
        assert ids(uow.payments.recent(10, school_id=SCHOOL, student_id="stu_1")) == [
            made[3].id,
            made[1].id,
        ]
        assert ids(uow.payments.recent(10, statuses=[PaymentStatus.SUCCEEDED])) == []
        held = uow.payments.get(made[2].id)
        held.status = PaymentStatus.HELD_FOR_REVIEW
        uow.commit()
    with persistence.uow() as uow:
        assert ids(uow.payments.recent(10, statuses=["held_for_review"])) == [made[2].id]


def test_dispute_pages_are_newest_first_per_school(persistence: PersistenceBackend) -> None:
    def a_dispute(n: int, school: SchoolId = SCHOOL) -> Dispute:
        return Dispute(
            id=DisputeId(new_id("dp")),
            school_id=school,
            payment_id=PaymentId(f"pay_{n}"),
            provider_dispute_id=f"dp_{n}",
            status="needs_response",
            opened_at=T0 + timedelta(hours=n),
        )

    mine = [a_dispute(n) for n in range(3)]
    theirs = a_dispute(9, OTHER)
    with persistence.uow() as uow:
        for dispute in (*mine, theirs):
            uow.disputes.add(dispute)
        uow.commit()
    with persistence.uow() as uow:
        assert ids(uow.disputes.recent(2)) == [theirs.id, mine[2].id]
        assert ids(uow.disputes.recent(5, 1, school_id=SCHOOL)) == [mine[1].id, mine[0].id]
