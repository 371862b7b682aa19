"""QuickBooks Online behind the AccountingClient port: the batch endpoint over httpx, no SDK.

Each push is a read and a write. The read is one or more batches of queries that find what
QuickBooks already holds of ours (customers by the record-id suffix of their DisplayName,
invoices and credit memos by DocNumber, payments by date, each confirmed by our PrivateNote
marker) and the invoices that payments and credit notes point at. The write is one batch of
creates and sparse updates under `requestid` = operation + our idempotency key, so a retry with
the same key gets QuickBooks' first answer back. A record QuickBooks refuses carries its Fault
in its PushResult; a record we can tell is wrong (no lines, unknown invoice, unknown customer)
is refused without a call.

Payments apply to their invoice at most its open balance; the rest stays as the customer's
credit (an overpayment). A credit memo is then applied to its invoice by a zero Payment (how
QuickBooks links credits), again at most the invoice's open balance: a refund after payment
leaves the credit on the customer, where the refund itself is booked. If that application
fails, the memo's result carries the error and the next push (found by DocNumber) retries it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import httpx

from justdriving.adapters.accounting.oauth.app import check_app
from justdriving.adapters.accounting.oauth.tokens import GrantTokens
from justdriving.adapters.accounting.quickbooks import batches as books
from justdriving.adapters.accounting.quickbooks import payloads as qb
from justdriving.adapters.accounting.quickbooks.api import DEFAULT_TIMEOUT, QuickBooksApi
from justdriving.adapters.accounting.quickbooks.batches import Batches, Entity, Plan
from justdriving.adapters.accounting.quickbooks.identity import TOKEN_URL, endpoints
from justdriving.adapters.accounting.quickbooks.limits import RequestPacer
from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingPayment,
    PushResult,
)
from justdriving.domain.errors import ConfigurationError, ProviderRejected
from justdriving.domain.money import Money
from justdriving.ports.accounting import GrantStore

LIVE_API = "https://quickbooks.api.intuit.com"
SANDBOX_API = "https://sandbox-quickbooks.api.intuit.com"
MIN_MINORVERSION = 75
MAX_BATCH = 30

R = TypeVar("R")


class QuickBooksAccountingClient:
    """The AccountingClient port over one QuickBooks Online company. See the module docstring."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        realm_id: str,
        grants: GrantStore,
        *,
        api_base: str = LIVE_API,
        token_url: str = TOKEN_URL,
        minorversion: int = MIN_MINORVERSION,
        batch_size: int = MAX_BATCH,
        timezone: str = "UTC",
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        name: str = "quickbooks",
    ) -> None:
        check_app("QuickBooks", client_id, client_secret, ("realm id", realm_id))
        if minorversion < MIN_MINORVERSION or not 1 <= batch_size <= MAX_BATCH:
            raise ConfigurationError(
                f"QuickBooks needs minorversion >= {MIN_MINORVERSION} and 1..{MAX_BATCH} per batch"
            )
        self.name, self.max_batch = name, batch_size
        self._timezone = ZoneInfo(timezone)
        client = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)
        tokens = GrantTokens.of_app(
            (client_id, client_secret),
            endpoints(token_url),
            realm_id,
            grants,
            provider=name,
            http=client,
            clock=clock,
        )
        self._api = QuickBooksApi(
            tokens,
            api_base=api_base,
            minorversion=minorversion,
            provider=name,
            pacer=RequestPacer(monotonic=monotonic, sleep=sleep),
            http=client,
            owns_http=http is None,
        )
        self._batches = Batches(self._api, batch_size, name)

    def __repr__(self) -> str:
        return f"QuickBooksAccountingClient(name={self.name!r}, api={self._api!r})"

    def close(self) -> None:
        """Close the HTTP client this adapter made (not one it was given)."""
        self._api.close()

    # The port.

    def upsert_contacts(
        self, contacts: Sequence[AccountingContact], idempotency_key: str
    ) -> list[PushResult]:
        if not self._admit(contacts):
            return []
        found = self._batches.customers(c.record_id for c in contacts)
        plans = [
            Plan(c.record_id, "Customer", qb.customer(c, found.get(c.record_id))) for c in contacts
        ]
        return _results(self._batches.write("contacts", plans, idempotency_key))

    def push_invoices(
        self, invoices: Sequence[AccountingInvoice], idempotency_key: str
    ) -> list[PushResult]:
        if not self._admit(invoices):
            return []
        customers = self._batches.customers(i.contact_id for i in invoices)
        queries = {i.record_id: qb.query("Invoice", "DocNumber", i.number) for i in invoices}
        documents = self._batches.lookup(queries.values())
        plans = []
        for invoice in invoices:
            plan = Plan(invoice.record_id, "Invoice")
            customer = customers.get(invoice.contact_id)
            mine, taken = books.ours(documents[queries[invoice.record_id]], invoice.record_id)
            plan.error = books.number_problem(invoice.number, taken, "invoice") or (
                qb.lines_problem(invoice.lines, invoice.currency, "an invoice")
            )
            if plan.error is None and customer is None:
                plan.error = f"no QuickBooks customer for contact {invoice.contact_id}"
            elif plan.error is None and customer is not None:
                plan.body = qb.invoice(invoice, customer["Id"], self._timezone, mine)
            plans.append(plan)
        return _results(self._batches.write("invoices", plans, idempotency_key))

    def push_payments(
        self, payments: Sequence[AccountingPayment], idempotency_key: str
    ) -> list[PushResult]:
        if not self._admit(payments):
            return []
        invoices = self._batches.invoices(p.invoice_external_id for p in payments)
        queries = {
            p.record_id: qb.query("Payment", "TxnDate", qb.local_date(p.paid_at, self._timezone))
            for p in payments
        }
        earlier = self._batches.lookup(queries.values())
        open_: dict[str, Money] = {}  # what is left to apply on each invoice, batch so far
        plans = []
        for payment in payments:
            plan = Plan(payment.record_id, "Payment")
            invoice = invoices.get(payment.invoice_external_id)
            plan.error = books.payment_problem(payment, invoice)
            if invoice is not None and plan.error is None:
                mine, _ = books.ours(earlier[queries[payment.record_id]], payment.record_id)
                plan.body = self._payment(payment, invoice, mine, open_)
            plans.append(plan)
        return _results(self._batches.write("payments", plans, idempotency_key))

    def push_credit_notes(
        self, credit_notes: Sequence[AccountingCreditNote], idempotency_key: str
    ) -> list[PushResult]:
        if not self._admit(credit_notes):
            return []
        invoices = self._batches.invoices(n.invoice_external_id for n in credit_notes)
        queries = {n.record_id: qb.query("CreditMemo", "DocNumber", n.number) for n in credit_notes}
        memos = self._batches.lookup(queries.values())
        plans = []
        for note in credit_notes:
            plan = Plan(note.record_id, "CreditMemo")
            invoice = invoices.get(note.invoice_external_id)
            mine, taken = books.ours(memos[queries[note.record_id]], note.record_id)
            plan.error = (
                books.number_problem(note.number, taken, "credit memo")
                or qb.lines_problem(note.lines, note.currency, "a credit note")
                or books.invoice_problem(note.invoice_external_id, note.currency, invoice)
            )
            if plan.error is None and invoice is not None:
                customer = invoice["CustomerRef"]["value"]
                plan.body = qb.credit_memo(note, customer, self._timezone, mine)
            plans.append(plan)
        written = self._batches.write("credit_notes", plans, idempotency_key)
        self._apply_credits(credit_notes, written, invoices, idempotency_key)
        return _results(written)

    # Mechanics.

    def _admit(self, batch: Sequence[R]) -> Sequence[R]:
        if len(batch) > self.max_batch:
            raise ProviderRejected(
                self.name, f"at most {self.max_batch} records per batch", provider_code="batch"
            )
        return batch

    def _payment(
        self,
        payment: AccountingPayment,
        invoice: Entity,
        mine: Entity | None,
        open_: dict[str, Money],
    ) -> Entity:
        """The Payment body, applying at most what is open on the invoice (and counting it)."""
        currency, invoice_id = payment.amount.currency, str(invoice["Id"])
        if invoice_id not in open_:
            open_[invoice_id] = books.balance(invoice, currency)
        left = open_[invoice_id] + books.linked(mine, invoice_id, currency)
        applied = min(payment.amount, max(left, Money.zero(currency)))
        open_[invoice_id] = left - applied
        customer = invoice["CustomerRef"]["value"]
        return qb.payment(payment, customer, applied, self._timezone, mine)

    def _apply_credits(
        self,
        notes: Sequence[AccountingCreditNote],
        written: list[Plan],
        invoices: dict[str, Entity],
        key: str,
    ) -> None:
        """Apply each booked memo's remaining credit to its invoice, up to what is open."""
        open_: dict[str, Money] = {}
        applications: list[tuple[Plan, Plan]] = []
        for note, plan in zip(notes, written, strict=True):
            if plan.answer is None:
                continue
            invoice = invoices[note.invoice_external_id]
            credit = qb.money(
                plan.answer.get("Balance", plan.answer.get("TotalAmt")), note.currency
            )
            if invoice["Id"] not in open_:
                open_[invoice["Id"]] = books.balance(invoice, note.currency)
            left = open_[invoice["Id"]]
            applied = min(credit, left)
            open_[invoice["Id"]] = left - applied
            if applied.is_positive:
                customer = invoice["CustomerRef"]["value"]
                body = qb.credit_application(
                    customer, invoice["Id"], plan.answer, applied, note.record_id
                )
                applications.append((plan, Plan(plan.record_id, "Payment", body)))
        self._batches.write("credit_notes-apply", [a for _, a in applications], key)
        for plan, application in applications:
            if application.error is not None:
                memo = plan.answer["Id"] if plan.answer else "?"
                plan.error = f"credit memo {memo} is booked but not applied: {application.error}"


def _results(plans: list[Plan]) -> list[PushResult]:
    return [plan.result() for plan in plans]
