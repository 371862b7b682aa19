"""Xero behind the AccountingClient port: the Accounting API (api.xro/2.0) over httpx, no SDK.

How the port's batches land on Xero (one organisation, `tenant_id`):
- upsert_contacts: POST Contacts, ContactNumber = our record id (Xero's field for an external
  system's id), so pushing a record again updates the same contact.
- push_invoices: POST Invoices, Type ACCREC, InvoiceNumber = ours, Reference = our record id,
  Status AUTHORISED, the contact by ContactNumber; a second push of the number updates it. So
  GET Invoices?InvoiceNumbers= first (one call): a number Xero holds under another Reference
  (another school's series in the same organisation, an invoice typed in by hand) is refused
  rather than overwritten.
- push_payments: GET Invoices?IDs= first (one call), so that a payment for an invoice Xero does
  not hold, or in another currency, is refused before anything is written; then PUT Payments
  (the spec's createPayments: PUT takes a list, POST one payment) to the bank account
  `payment_account_code`. Xero cannot update a payment: pushing the same
  record again under a new idempotency key records a second payment.
- push_credit_notes: the same invoice check, POST CreditNotes (ACCRECCREDIT, CreditNoteNumber =
  ours), then for each note with credit left PUT CreditNotes/{id}/Allocations to its invoice.
  A note Xero created but would not allocate (more than the invoice still owes, for one) comes
  back with its external id AND an error, so the sync shows it and the operator decides.
Every write sends `summarizeErrors=false`, so Xero answers per element and a refused record does
not fail the others, and carries an Idempotency-Key: the given key for the batch, the key plus
`allocation:<record id>` for an allocation. Tokens: accounting.oauth; calls, errors: xero.api.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from justdriving.adapters.accounting.oauth.app import check_app
from justdriving.adapters.accounting.oauth.tokens import GrantTokens
from justdriving.adapters.accounting.xero import payloads
from justdriving.adapters.accounting.xero.api import (
    DEFAULT_TIMEOUT,
    RefusedElements,
    XeroApi,
    idempotency_key,
)
from justdriving.adapters.accounting.xero.identity import endpoints
from justdriving.adapters.accounting.xero.limits import XeroRateLimiter
from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingPayment,
    PushResult,
)
from justdriving.domain.errors import ConfigurationError, ProviderRejected, ProviderUnavailable
from justdriving.ports.accounting import GrantStore

API_BASE = "https://api.xero.com"
IDENTITY_BASE = "https://identity.xero.com"
_WRITE = {"summarizeErrors": "false"}

Body = dict[str, Any] | str  # what to send for a record, or why it is refused unsent
Element = Mapping[str, Any]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class XeroAccountingClient:
    """The AccountingClient port for one Xero organisation. See the module docstring."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        tenant_id: str,
        grants: GrantStore,
        *,
        api_base: str = API_BASE,
        identity_base: str = IDENTITY_BASE,
        limiter: XeroRateLimiter | None = None,
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        payment_account_code: str | None = None,
        name: str = "xero",
        max_batch: int = 50,
    ) -> None:
        check_app("Xero", client_id, client_secret, ("tenant id", tenant_id))
        self.name, self.max_batch = name, max_batch
        self.tenant_id = tenant_id
        self.payment_account_code = payment_account_code
        self._http = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._owns_http = http is None
        self.limiter = limiter or XeroRateLimiter(monotonic=monotonic, sleep=sleep)
        tokens = GrantTokens.of_app(
            (client_id, client_secret),
            endpoints(identity_base),
            tenant_id,
            grants,
            provider=name,
            http=self._http,
            clock=clock,
        )
        self._api = XeroApi(tokens, self.limiter, api_base=api_base, provider=name, http=self._http)

    def __repr__(self) -> str:
        return f"XeroAccountingClient(name={self.name!r}, tenant_id={self.tenant_id!r})"

    def close(self) -> None:
        """Close the HTTP client this adapter made (not one it was given)."""
        if self._owns_http:
            self._http.close()

    # The port.

    def upsert_contacts(
        self, contacts: Sequence[AccountingContact], idempotency_key: str
    ) -> list[PushResult]:
        self._check_batch(contacts)
        bodies: list[Body] = [payloads.contact(c) for c in contacts]
        ids = [c.record_id for c in contacts]
        return self._push("Contacts", "ContactID", ids, bodies, idempotency_key)[0]

    def push_invoices(
        self, invoices: Sequence[AccountingInvoice], idempotency_key: str
    ) -> list[PushResult]:
        self._check_batch(invoices)
        if not invoices:
            return []
        taken = self._invoices_numbered([i.number for i in invoices])
        bodies = [payloads.number_taken(i, taken) or payloads.invoice(i) for i in invoices]
        ids = [i.record_id for i in invoices]
        return self._push("Invoices", "InvoiceID", ids, bodies, idempotency_key)[0]

    def push_payments(
        self, payments: Sequence[AccountingPayment], idempotency_key: str
    ) -> list[PushResult]:
        self._check_batch(payments)
        if not payments:
            return []
        account = self.payment_account_code
        if not account:
            raise ConfigurationError(
                "Xero needs the code of the bank account payments are received into",
                ("payment_account_code",),
            )
        held = self._invoices([p.invoice_external_id for p in payments])
        bodies: list[Body] = [
            payloads.invoice_problem(p.invoice_external_id, p.amount.currency, held)
            or payloads.payment(p, account)
            for p in payments
        ]
        ids = [p.record_id for p in payments]
        return self._push("Payments", "PaymentID", ids, bodies, idempotency_key)[0]

    def push_credit_notes(
        self, credit_notes: Sequence[AccountingCreditNote], idempotency_key: str
    ) -> list[PushResult]:
        self._check_batch(credit_notes)
        if not credit_notes:
            return []
        held = self._invoices([n.invoice_external_id for n in credit_notes])
        bodies: list[Body] = [
            payloads.invoice_problem(n.invoice_external_id, n.currency, held)
            or payloads.credit_note(n)
            for n in credit_notes
        ]
        ids = [n.record_id for n in credit_notes]
        results, elements = self._push("CreditNotes", "CreditNoteID", ids, bodies, idempotency_key)
        for index, note in enumerate(credit_notes):
            element = elements[index]
            if results[index].ok and element is not None:
                results[index] = self._allocate(note, results[index], element, idempotency_key)
        return results

    # Mechanics.

    def _check_batch(self, records: Sequence[object]) -> None:
        if len(records) > self.max_batch:
            raise ProviderRejected(
                self.name,
                f"at most {self.max_batch} records per request, not {len(records)}",
                provider_code="batch",
            )

    def _push(
        self, resource: str, id_field: str, ids: Sequence[str], bodies: Sequence[Body], key: str
    ) -> tuple[list[PushResult], list[Element | None]]:
        """Write the sendable bodies as one batch; one result (and element) per record, in order.

        POST (the spec's updateOrCreate) for contacts, invoices and credit notes, so a record
        pushed again is updated; PUT (createPayments) for payments, which Xero cannot update."""
        results = [
            PushResult(i, error=b) if isinstance(b, str) else PushResult(i)
            for i, b in zip(ids, bodies, strict=True)
        ]
        elements: list[Element | None] = [None] * len(ids)
        sent = [index for index, body in enumerate(bodies) if not isinstance(body, str)]
        if not sent:
            return results, elements
        batch = {resource: [bodies[i] for i in sent]}
        method = "PUT" if resource == "Payments" else "POST"
        answered = self._write(
            method, f"/{resource}", resource, batch, idempotency_key(key), len(sent)
        )
        if len(answered) != len(sent):
            raise ProviderUnavailable(
                self.name,
                f"Xero answered {len(answered)} {resource} for the {len(sent)} sent",
                possibly_done=True,
            )
        for index, element in zip(sent, answered, strict=True):
            elements[index] = element
            results[index] = payloads.push_result(ids[index], element, id_field)
        return results, elements

    def _write(
        self, method: str, path: str, resource: str, body: dict[str, Any], key: str, sent: int
    ) -> list[Element]:
        """The answer's elements; a 400 that lists them all is an answer too (per element).
        `summarizeErrors` goes wherever Xero takes it: not on createPayment (POST /Payments,
        one payment), whose single element answers for itself."""
        params = {} if (method, path) == ("POST", "/Payments") else _WRITE
        try:
            answer = self._api.call(method, path, body=body, params=params, key=key)
        except RefusedElements as refused:
            if len(refused.elements) != sent:
                raise
            return refused.elements
        elements = answer.get(resource)
        if not isinstance(elements, list) or not all(isinstance(e, Mapping) for e in elements):
            raise ProviderUnavailable(
                self.name, f"Xero answered {method} {path} without {resource}", possibly_done=True
            )
        return elements

    def _invoices(self, external_ids: Sequence[str]) -> dict[str, Element]:
        """The invoices Xero holds among `external_ids` (a GET, by InvoiceID)."""
        wanted = sorted({i for i in external_ids if payloads.is_xero_id(i)})
        if not wanted:
            return {}
        answer = self._api.call("GET", "/Invoices", params={"IDs": ",".join(wanted)})
        found = answer.get("Invoices")
        items = found if isinstance(found, list) else []
        return {str(i.get("InvoiceID")).lower(): i for i in items if isinstance(i, Mapping)}

    def _invoices_numbered(self, numbers: Sequence[str]) -> dict[str, Element]:
        """The invoices Xero holds under `numbers` (a GET, by InvoiceNumber): a POST of a
        number Xero holds updates that invoice, so one that is not ours must be refused."""
        wanted = sorted(set(numbers))
        answer = self._api.call("GET", "/Invoices", params={"InvoiceNumbers": ",".join(wanted)})
        found = answer.get("Invoices")
        items = found if isinstance(found, list) else []
        return {str(i.get("InvoiceNumber")): i for i in items if isinstance(i, Mapping)}

    def _refund_note(
        self, note: AccountingCreditNote, created: PushResult, amount: Decimal, key: str
    ) -> str | None:
        account = self.payment_account_code
        if not account:
            return "no ACCOUNTING_PAYMENT_ACCOUNT to book the refund from"
        body = payloads.credit_note_refund(str(created.external_id), account, amount, note)
        sub_key = idempotency_key(key, f"refund:{note.record_id}")
        return self._one("POST", "/Payments", "Payments", body, sub_key)  # createPayment: one

    def _one(
        self, method: str, path: str, resource: str, body: dict[str, Any], key: str
    ) -> str | None:
        """Write one element; its refusal, or None."""
        try:
            [answer] = self._write(method, path, resource, body, key, 1)
            return payloads.refusal(answer)
        except ProviderRejected as error:
            return str(error)
        except ValueError:
            return f"Xero answered {resource} without exactly one element"

    def _allocate(
        self, note: AccountingCreditNote, created: PushResult, element: Element, key: str
    ) -> PushResult:
        """Settle the note's credit left (all of it when new; none on a replay): what was paid
        back is booked as the note's refund from the bank account, the rest is allocated to
        its invoice."""
        remaining = element.get("RemainingCredit", element.get("Total"))
        if not isinstance(remaining, Decimal | int) or remaining <= 0:
            return created
        refunded = note.refunded.to_decimal() if note.refunded is not None else Decimal(0)
        refunded = min(refunded, Decimal(remaining))
        problem = None
        if refunded > 0:
            problem = self._refund_note(note, created, refunded, key)
        allocate = Decimal(remaining) - refunded
        if problem is None and allocate > 0:
            path = f"/CreditNotes/{created.external_id}/Allocations"
            body = payloads.allocation(note.invoice_external_id, allocate, note.issued_at)
            sub_key = idempotency_key(key, f"allocation:{note.record_id}")
            problem = self._one("PUT", path, "Allocations", body, sub_key)
        if problem is None:
            return created
        return PushResult(
            note.record_id,
            external_id=created.external_id,
            error=(
                f"credit note {note.number} is in Xero but not settled against invoice "
                f"{note.invoice_external_id}: {problem}"
            ),
        )
