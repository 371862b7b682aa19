"""The QuickBooks adapter's reads and writes: batches of queries that find what QuickBooks holds
of ours, one batch of creates and updates per push, and the checks between them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from attrs import define

from justdriving.adapters.accounting.quickbooks import payloads as qb
from justdriving.adapters.accounting.quickbooks.api import QuickBooksApi
from justdriving.domain.accounting import AccountingPayment, PushResult
from justdriving.domain.errors import ProviderRejected, ProviderUnavailable
from justdriving.domain.money import Money

Entity = dict[str, Any]


@define
class Plan:
    """One record's part of a write batch: an entity body, or why it was not sent."""

    record_id: str
    entity: str
    body: Entity | None = None
    error: str | None = None
    answer: Entity | None = None  # the entity QuickBooks returned

    def result(self) -> PushResult:
        if self.error is not None or self.answer is None:
            return PushResult(self.record_id, error=self.error or "QuickBooks did not book it")
        return PushResult(self.record_id, external_id=str(self.answer["Id"]))


class Batches:
    """Reads and writes through one company's batch endpoint, `max_batch` items at a time."""

    def __init__(self, api: QuickBooksApi, max_batch: int, provider: str) -> None:
        self._api, self._max_batch, self._provider = api, max_batch, provider

    def lookup(self, queries: Iterable[str]) -> dict[str, list[Entity]]:
        """Each distinct query's entities."""
        unique = list(dict.fromkeys(queries))
        found: dict[str, list[Entity]] = {}
        for start in range(0, len(unique), self._max_batch):
            chunk = unique[start : start + self._max_batch]
            items = [{"bId": str(n), "Query": text} for n, text in enumerate(chunk)]
            answers = self._api.batch(items, request_id=None)
            for n, text in enumerate(chunk):
                found[text] = self._entities(answers.get(str(n)))
        return found

    def customers(self, record_ids: Iterable[str]) -> dict[str, Entity]:
        """Our customers by our record id (their DisplayName ends in " (<id>)")."""
        suffixes = {i: qb.display_suffix(i).strip() for i in dict.fromkeys(record_ids)}
        queries = {
            i: qb.query("Customer", "DisplayName", s, like_suffix=True) for i, s in suffixes.items()
        }
        found = self.lookup(queries.values())
        result = {}
        for record_id, suffix in suffixes.items():
            exact = [
                c for c in found[queries[record_id]] if str(c.get("DisplayName")).endswith(suffix)
            ]
            if exact:
                result[record_id] = exact[0]
        return result

    def invoices(self, external_ids: Iterable[str]) -> dict[str, Entity]:
        queries = {i: qb.query("Invoice", "Id", i) for i in dict.fromkeys(external_ids)}
        found = self.lookup(queries.values())
        return {i: found[q][0] for i, q in queries.items() if found[q]}

    def write(self, operation: str, plans: list[Plan], key: str) -> list[Plan]:
        """Send the plans that have a body, under requestid = operation + key; fill answers."""
        items = [
            {
                "bId": str(n),
                "operation": "update" if "Id" in plan.body else "create",
                plan.entity: plan.body,
            }
            for n, plan in enumerate(plans)
            if plan.body is not None
        ]
        if not items:
            return plans
        answers = self._api.batch(items, request_id=qb.request_id(operation, key))
        for n, plan in enumerate(plans):
            if plan.body is not None:
                plan.answer, plan.error = _answer(answers.get(str(n)), plan.entity)
        return plans

    def _entities(self, answer: Entity | None) -> list[Entity]:
        if answer is None:
            raise ProviderUnavailable(self._provider, "QuickBooks left a query unanswered")
        if "Fault" in answer:
            text = qb.fault_text(answer["Fault"])
            raise ProviderRejected(self._provider, f"QuickBooks refused a query: {text}")
        response = answer.get("QueryResponse") or {}
        return [
            entity
            for name, value in response.items()
            if isinstance(value, list) and name[:1].isupper()
            for entity in value
            if isinstance(entity, dict)
        ]


def _answer(answer: Entity | None, entity: str) -> tuple[Entity | None, str | None]:
    if answer is None:
        return None, "QuickBooks left this record of the batch unanswered"
    if "Fault" in answer:
        return None, qb.fault_text(answer["Fault"])
    body = answer.get(entity)
    if not isinstance(body, dict) or not body.get("Id"):
        return None, f"QuickBooks answered without the {entity}"
    return body, None


def ours(found: list[Entity], record_id: str) -> tuple[Entity | None, bool]:
    """(our entity among `found`, whether its number is taken by someone else's)."""
    mine = [entity for entity in found if qb.is_ours(entity, record_id)]
    return (mine[0] if mine else None), bool(found) and not mine


def number_problem(number: str, taken: bool, what: str) -> str | None:
    if not number or len(number) > qb.MAX_DOC_NUMBER:
        return f"QuickBooks takes a {what} number of 1 to {qb.MAX_DOC_NUMBER} characters"
    return f"{what} number {number} is already used in QuickBooks" if taken else None


def balance(invoice: Entity, currency: str) -> Money:
    return qb.money(invoice.get("Balance"), _currency(invoice, currency))


def invoice_problem(external_id: str, currency: str, invoice: Entity | None) -> str | None:
    if invoice is None:
        return f"no invoice {external_id} in QuickBooks"
    if _currency(invoice, currency) != currency:
        return f"invoice {external_id} is in {_currency(invoice, currency)}, not {currency}"
    return None


def payment_problem(payment: AccountingPayment, invoice: Entity | None) -> str | None:
    if not payment.amount.is_positive:
        return f"a payment of {payment.amount} is not positive"
    return invoice_problem(payment.invoice_external_id, payment.amount.currency, invoice)


def linked(payment: Entity | None, invoice_id: str, currency: str) -> Money:
    """What an earlier version of a payment applied to the invoice (now to be re-applied)."""
    total = Money.zero(currency)
    for line in (payment or {}).get("Line") or ():
        links = line.get("LinkedTxn") or ()
        if any(str(link.get("TxnId")) == invoice_id for link in links):
            total = total + qb.money(line.get("Amount"), currency)
    return total


def _currency(entity: Entity, default: str) -> str:
    ref = entity.get("CurrencyRef")
    return str(ref.get("value") or default) if isinstance(ref, dict) else default
