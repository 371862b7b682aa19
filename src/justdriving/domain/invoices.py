"""Student invoices and credit notes: VAT lines, gap-free numbers at issue, payments applied."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from attrs import define, evolve, field

from justdriving.domain.dunning import DueStep, DunningStep, due_step
from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidInput, InvalidTransition, PaymentNotAllowed
from justdriving.domain.events import EventLog, InvoiceIssued, InvoicePaid, InvoiceVoided
from justdriving.domain.ids import BookingId, InvoiceId, PackageId, PaymentId, SchoolId, StudentId
from justdriving.domain.invoice_lines import InvoiceLine, sum_lines, vat_by_rate
from justdriving.domain.money import Money
from justdriving.domain.tax import Amounts

__all__ = [
    "CreditNote",
    "Invoice",
    "InvoiceLine",
    "InvoiceNumbering",
    "InvoiceStatus",
    "sum_lines",
    "vat_by_rate",
]


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


@define(eq=False)
class InvoiceNumbering(Entity):
    """A school's gap-free number series, shared by invoices and credit notes.

    Taken in the same unit of work as the issue, so a rolled-back issue leaves no gap.
    """

    id: SchoolId
    prefix: str = ""
    next_number: int = 1
    version: int = 0

    def take(self, prefix: str | None = None) -> str:
        """The next number, after `prefix` (the school's setting; else the one stored)."""
        if prefix is not None:
            self.prefix = prefix
        number = f"{self.prefix}{self.next_number}"
        self.next_number += 1
        return number


_PAYABLE_OR_PAID = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)


@define(eq=False)
class Invoice(Entity):
    id: InvoiceId
    school_id: SchoolId
    student_id: StudentId
    currency: str
    lines: list[InvoiceLine] = field(factory=list)
    status: InvoiceStatus = InvoiceStatus.DRAFT
    number: str | None = None
    issued_at: datetime | None = None
    due_at: datetime | None = None
    paid: Money = field()  # payments applied to it, gross of any refund
    credited: Money = field()
    refunded: Money = field()  # refunds of the payments applied to it
    booking_id: BookingId | None = None
    package_id: PackageId | None = None
    plan_id: str | None = None  # a payment plan's charge (an instalment, a month's fee)
    # When what it charges for was delivered (the lesson's day, in the school's timezone);
    # None: on the day it was issued.
    delivered_on: date | None = None
    reminded_at: datetime | None = None
    dunning_steps_sent: int = 0  # how far up the school's dunning ladder it has been reminded
    # The online payment last started for it, and how many were: while that payment is open,
    # starting again gives the same payment (one open online payment per invoice).
    online_payment_id: PaymentId | None = None
    online_payments: int = 0
    version: int = 0
    events: EventLog = field(factory=EventLog, repr=False)

    @paid.default
    def _zero_paid(self) -> Money:
        return Money.zero(self.currency)

    @credited.default
    def _zero_credited(self) -> Money:
        return Money.zero(self.currency)

    @refunded.default
    def _zero_refunded(self) -> Money:
        return Money.zero(self.currency)

    @property
    def totals(self) -> Amounts:
        return sum_lines(self.lines, self.currency)

    @property
    def net_paid(self) -> Money:
        """Paid on it and kept: payments applied minus the refunds of those payments."""
        return self.paid - self.refunded

    @property
    def outstanding(self) -> Money:
        """gross - credited - (paid - refunded): what the student still owes on it; negative
        when overpaid (a credit note after payment, say)."""
        if self.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
            return Money.zero(self.currency)
        return self.totals.gross - self.credited - self.net_paid

    @property
    def creditable(self) -> Money:
        """Gross not yet credited: the most a new credit note may cover."""
        return self.totals.gross - self.credited

    def is_overdue(self, now: datetime) -> bool:
        due = self.due_at is not None and self.due_at < now
        return due and self.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)

    def dunning_due(self, ladder: Sequence[DunningStep], now: datetime) -> DueStep | None:
        """The step of `ladder` to remind with now: overdue, something left to pay, and a step
        reached above every one sent (see domain.dunning)."""
        if not self.is_overdue(now) or not self.outstanding.is_positive:
            return None
        assert self.due_at is not None
        return due_step(ladder, self.due_at, now, self.dunning_steps_sent)

    def record_dunning(self, step: DueStep, now: datetime) -> None:
        """`step` was decided: it, and every step below it, count as sent."""
        self.dunning_steps_sent = max(self.dunning_steps_sent, step.index + 1)
        self.reminded_at = now

    def start_online_payment(self, payment_id: PaymentId) -> None:
        """Note the online payment now collecting what it asks. Writing it also makes two
        payments started at once for this invoice conflict: only one of them is kept."""
        if self.status not in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID):
            raise PaymentNotAllowed(f"invoice {self.number or self.id} is {self.status}")
        self.online_payment_id = payment_id
        self.online_payments += 1

    def add_line(self, line: InvoiceLine) -> None:
        if self.status is not InvoiceStatus.DRAFT:
            raise InvalidTransition("invoice", self.status, "add a line to")
        if line.unit_price.currency != self.currency:
            raise InvalidInput(f"this invoice is in {self.currency}")
        self.lines.append(line)

    def issue(self, number: str, now: datetime, due_in: timedelta) -> None:
        if self.status is not InvoiceStatus.DRAFT:
            raise InvalidTransition("invoice", self.status, "issue")
        if not self.lines:
            raise InvalidTransition("invoice", "empty", "issue")
        self.status, self.number = InvoiceStatus.OPEN, number
        self.issued_at, self.due_at = now, now + due_in
        self.events.record(InvoiceIssued(now, self.id, number, school_id=self.school_id))
        self._settle(now)

    def apply_payment(self, amount: Money, now: datetime) -> Money:
        """Apply a confirmed payment; returns the part above what was owed (overpayment)."""
        if self.status not in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID):
            raise PaymentNotAllowed(f"invoice is {self.status}")
        if not amount.is_positive:
            raise InvalidInput("a payment is a positive amount")
        applied = min(amount, max(self.outstanding, Money.zero(self.currency)))
        self.paid = self.paid + applied
        self._settle(now)
        return amount - applied

    def apply_refund(
        self, amount: Money, now: datetime, credit_note: CreditNote | None = None
    ) -> None:
        """Money paid on this invoice went back: it is no longer paid, so the student owes it
        again unless `credit_note` (applied in the same step) corrects the invoice too."""
        if self.status not in _PAYABLE_OR_PAID:
            raise InvalidTransition("invoice", self.status, "refund a payment of")
        if not amount.is_positive or amount > self.net_paid:
            raise InvalidInput("a refund takes back a positive amount no larger than was paid")
        if credit_note is not None:
            self._credit(credit_note)
        self.refunded = self.refunded + amount
        self._settle(now)

    def apply_credit(self, credit_note: CreditNote, now: datetime) -> None:
        self._credit(credit_note)
        self._settle(now)

    def _credit(self, credit_note: CreditNote) -> None:
        if credit_note.invoice_id != self.id:
            raise InvalidInput("the credit note corrects another invoice")
        gross = credit_note.totals.gross
        if gross > self.creditable:
            raise InvalidInput("a credit note cannot exceed what is left to credit")
        self.credited = self.credited + gross

    def void(self, now: datetime) -> None:
        """Cancel an issued, unpaid invoice. It keeps its number; a credit note books it out."""
        if self.status is not InvoiceStatus.OPEN or self.paid:
            raise InvalidTransition("invoice", self.status, "void")
        self.status = InvoiceStatus.VOID
        self.events.record(InvoiceVoided(now, self.id, school_id=self.school_id))

    def _settle(self, now: datetime) -> None:
        """The status follows the figures, both ways: a refund can reopen a paid invoice."""
        if self.status not in _PAYABLE_OR_PAID:
            return
        was = self.status
        if not self.outstanding.is_positive:
            self.status = InvoiceStatus.PAID
        elif self.net_paid.is_positive:
            self.status = InvoiceStatus.PARTIALLY_PAID
        else:
            self.status = InvoiceStatus.OPEN
        if self.status is InvoiceStatus.PAID and was is not InvoiceStatus.PAID:
            self.events.record(InvoicePaid(now, self.id, school_id=self.school_id))


@define(eq=False)
class CreditNote(Entity):
    """A numbered correction of an invoice, mirroring its lines (all of them or a share)."""

    id: InvoiceId
    school_id: SchoolId
    student_id: StudentId
    invoice_id: InvoiceId
    currency: str
    lines: list[InvoiceLine]
    number: str
    issued_at: datetime
    reason: str
    refund_id: str | None = None
    invoice_number: str | None = None  # the number of the invoice it corrects
    version: int = 0

    @property
    def totals(self) -> Amounts:
        return sum_lines(self.lines, self.currency)

    @classmethod
    def mirroring(
        cls,
        invoice: Invoice,
        *,
        id: InvoiceId,
        number: str,
        now: datetime,
        reason: str,
        amount: Money | None = None,
        refund_id: str | None = None,
    ) -> CreditNote:
        """Credit `amount` of gross (all of it when None), spread over the lines by their gross."""
        if invoice.status is InvoiceStatus.DRAFT:
            raise InvalidTransition("invoice", invoice.status, "credit")
        amount = invoice.creditable if amount is None else amount
        if not amount.is_positive or amount > invoice.creditable:
            raise InvalidInput("a credit note covers a positive amount no larger than is left")
        lines = _mirror_lines(invoice, amount)
        return cls(
            id=id,
            school_id=invoice.school_id,
            student_id=invoice.student_id,
            invoice_id=invoice.id,
            currency=invoice.currency,
            lines=lines,
            number=number,
            issued_at=now,
            reason=reason,
            refund_id=refund_id,
            invoice_number=invoice.number,
        )


def _mirror_lines(invoice: Invoice, amount: Money) -> list[InvoiceLine]:
    if amount == invoice.totals.gross:
        return list(invoice.lines)
    weights = [line.amounts.gross.amount for line in invoice.lines]
    shares = amount.allocate(weights)
    return [
        evolve(line, quantity=1, unit_price=share, vat_inclusive=True)
        for line, share in zip(invoice.lines, shares, strict=True)
        if share.is_positive
    ]
