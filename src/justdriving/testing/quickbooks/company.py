"""The QuickBooks simulator's books: one company's customers, invoices, payments and credit
memos, the batch items that change them, the queries that read them, and QBO's faults.

Rules kept (each a per-item Fault, as QuickBooks answers inside a 200 batch):
- Customer DisplayName unique (6240); updates need the current SyncToken (5010) and an Id that
  exists (610).
- Invoice and CreditMemo: a known customer and items (2500), known tax codes (6000: unknown
  tax code), at least one line (2020), Amount = Qty x UnitPrice (6070), DocNumber unique per
  kind (6140), the company's currency.
- Payment: a known customer; each LinkedTxn an invoice or credit memo of that customer (610);
  no line above the invoice's open balance or the memo's remaining credit (6000); invoice lines
  at most the amount plus the credits applied.
Amounts are Decimal, rounded half up to the currency's decimals, VAT per line.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from justdriving.domain.money import currency_exponent

KINDS = ("Customer", "Invoice", "Payment", "CreditMemo")
_QUERY = re.compile(
    r"^\s*select\s+\*\s+from\s+(\w+)"
    r"(?:\s+where\s+(\w+)\s+(=|like)\s+'((?:[^'\\]|\\.)*)')?"
    r"(?:\s+maxresults\s+(\d+))?\s*$",
    re.IGNORECASE,
)


class QuickBooksFault(Exception):
    """One QBO error, answered as a Fault."""

    def __init__(
        self, code: str, message: str, detail: str, kind: str = "ValidationFault", element: str = ""
    ) -> None:
        super().__init__(f"{message} ({code}): {detail}")
        self.code, self.message, self.detail, self.kind, self.element = (
            code, message, detail, kind, element,
        )  # fmt: skip

    def body(self) -> dict[str, Any]:
        error = {"Message": self.message, "Detail": self.detail, "code": self.code}
        return {"type": self.kind, "Error": [{**error, "element": self.element}]}


def _invalid_reference(what: str, value: object) -> QuickBooksFault:
    return QuickBooksFault("2500", "Invalid Reference Id", f"Invalid Reference Id : {what} {value}")


def _business(detail: str) -> QuickBooksFault:
    return QuickBooksFault("6000", "A business validation error has occurred", detail)


class Company:
    """One QuickBooks company (realm); not thread-safe, the simulator holds the lock."""

    def __init__(
        self,
        *,
        currency: str,
        tax_codes: Mapping[str, int],
        items: Mapping[str, str],
        clock: Callable[[], datetime],
    ) -> None:
        self.currency, self.tax_codes, self.items, self.clock = currency, tax_codes, items, clock
        self.books: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self._ids = itertools.count(101)
        self._unit = Decimal(1).scaleb(-currency_exponent(currency))

    # Batch items.

    def answer(self, item: dict[str, Any]) -> dict[str, Any]:
        """One BatchItemRequest's BatchItemResponse."""
        bid = str(item.get("bId", ""))
        try:
            if "Query" in item:
                return {"bId": bid, "QueryResponse": self.query(str(item["Query"]))}
            kinds = [kind for kind in KINDS if isinstance(item.get(kind), dict)]
            if len(kinds) != 1 or item.get("operation") not in ("create", "update"):
                raise QuickBooksFault("2010", "Request has invalid or unsupported property", bid)
            kind = kinds[0]
            return {"bId": bid, kind: self.write(kind, item["operation"], item[kind])}
        except QuickBooksFault as fault:
            return {"bId": bid, "Fault": fault.body()}

    def write(self, kind: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        existing = self._current(kind, body) if operation == "update" else None
        merged = {**(existing or {}), **body} if body.get("sparse") else dict(body)
        merged.pop("sparse", None)
        getattr(self, f"_check_{kind.lower()}")(merged, existing)
        now = self.clock().isoformat()
        if existing is None:
            merged["Id"], merged["SyncToken"] = str(next(self._ids)), "0"
            merged["MetaData"] = {"CreateTime": now, "LastUpdatedTime": now}
            self.created[kind] += 1
        else:
            merged["Id"], merged["SyncToken"] = existing["Id"], str(int(existing["SyncToken"]) + 1)
            merged["MetaData"] = {**existing["MetaData"], "LastUpdatedTime": now}
            self.updated[kind] += 1
        merged.setdefault("CurrencyRef", {"value": self.currency})
        self.books[kind][merged["Id"]] = merged
        self._settle()
        return dict(self.books[kind][merged["Id"]])

    def _current(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        existing = self.books[kind].get(str(body.get("Id")))
        if existing is None:
            raise QuickBooksFault("610", "Object Not Found", f"{kind} {body.get('Id')} not found")
        if str(body.get("SyncToken")) != existing["SyncToken"]:
            raise QuickBooksFault(
                "5010", "Stale Object Error", "You and another user were working on this at once"
            )
        return existing

    # Rules per kind.

    def _check_customer(self, body: dict[str, Any], existing: dict[str, Any] | None) -> None:
        name = str(body.get("DisplayName") or "").strip()
        if not name or any(c in name for c in ":\t\n"):
            raise QuickBooksFault("6000", "Invalid DisplayName", f"{name!r} is not a valid name")
        for other in self.books["Customer"].values():
            if other["DisplayName"].lower() == name.lower() and other is not existing:
                raise QuickBooksFault(
                    "6240",
                    "Duplicate Name Exists Error",
                    f"The name supplied already exists: {name}",
                )
        body.setdefault("Active", True)
        body.setdefault("Balance", 0)

    def _check_invoice(self, body: dict[str, Any], existing: dict[str, Any] | None) -> None:
        self._check_sales(body, existing, "Invoice")

    def _check_creditmemo(self, body: dict[str, Any], existing: dict[str, Any] | None) -> None:
        self._check_sales(body, existing, "CreditMemo")

    def _check_sales(
        self, body: dict[str, Any], existing: dict[str, Any] | None, kind: str
    ) -> None:
        self._customer(body)
        self._same_currency(body)
        number = body.get("DocNumber")
        for other in self.books[kind].values():
            if number and other.get("DocNumber") == number and other is not existing:
                raise QuickBooksFault(
                    "6140", "Duplicate Document Number Error", f"Duplicate Document Number {number}"
                )
        lines = [
            line
            for line in body.get("Line") or ()
            if line.get("DetailType") != "SubTotalLineDetail"
        ]
        if not lines:
            raise QuickBooksFault(
                "2020",
                "Required param missing",
                "Required parameter Line is missing",
                element="Line",
            )
        inclusive = body.get("GlobalTaxCalculation") == "TaxInclusive"
        net = tax = Decimal(0)
        for line in lines:
            line_net, line_tax = self._sales_line(line, inclusive)
            net, tax = net + line_net, tax + line_tax
        body["Line"] = lines
        body["TxnTaxDetail"] = {"TotalTax": tax}
        body["TotalAmt"] = net + tax
        body["Balance"] = body["TotalAmt"]

    def _sales_line(self, line: dict[str, Any], inclusive: bool) -> tuple[Decimal, Decimal]:
        detail = line.get("SalesItemLineDetail") or {}
        item = str((detail.get("ItemRef") or {}).get("value"))
        if item not in self.items:
            raise _invalid_reference("Item", item)
        code = str((detail.get("TaxCodeRef") or {}).get("value"))
        if code not in self.tax_codes:
            raise _business(f"Invalid tax code {code}: make sure every line has a known tax code")
        amount = self.decimal(line.get("Amount"))
        if "UnitPrice" in detail and "Qty" in detail:
            expected = self.decimal(Decimal(str(detail["UnitPrice"])) * Decimal(str(detail["Qty"])))
            if expected != amount:
                raise QuickBooksFault(
                    "6070", "Amount is not equal to UnitPrice * Qty", f"{amount} != {expected}"
                )
        rate = Decimal(self.tax_codes[code])
        if inclusive:
            tax = self.decimal(amount * rate / (10_000 + rate))
            return amount - tax, tax
        return amount, self.decimal(amount * rate / 10_000)

    def _check_payment(self, body: dict[str, Any], existing: dict[str, Any] | None) -> None:
        customer = self._customer(body)
        self._same_currency(body)
        total = self.decimal(body.get("TotalAmt"))
        if total < 0:
            raise _business("A payment cannot be negative")
        open_ = self._open(excluding=existing["Id"] if existing else None)
        to_invoices = credits = Decimal(0)
        for line in body.get("Line") or ():
            amount = self.decimal(line.get("Amount"))
            for link in line.get("LinkedTxn") or ():
                kind, txn = str(link.get("TxnType")), str(link.get("TxnId"))
                target = (
                    self.books.get(kind, {}).get(txn) if kind in ("Invoice", "CreditMemo") else None
                )
                if target is None or target["CustomerRef"]["value"] != customer["Id"]:
                    raise QuickBooksFault("610", "Object Not Found", f"{kind} {txn} not found")
                if amount > open_[(kind, txn)]:
                    what = "the open balance of" if kind == "Invoice" else "the credit left on"
                    raise _business(f"{amount} is above {what} {kind} {txn} ({open_[(kind, txn)]})")
                if kind == "Invoice":
                    to_invoices += amount
                else:
                    credits += amount
        if to_invoices > total + credits:
            raise _business(f"the lines apply {to_invoices} but the payment has {total + credits}")
        body["TotalAmt"] = total
        body["UnappliedAmt"] = total + credits - to_invoices

    def _customer(self, body: dict[str, Any]) -> dict[str, Any]:
        ref = str((body.get("CustomerRef") or {}).get("value"))
        customer = self.books["Customer"].get(ref)
        if customer is None:
            raise _invalid_reference("Customer", ref)
        return customer

    def _same_currency(self, body: dict[str, Any]) -> None:
        currency = (body.get("CurrencyRef") or {}).get("value", self.currency)
        if currency != self.currency:
            raise _business(f"This company keeps its books in {self.currency}, not {currency}")

    # Balances.

    def _open(self, excluding: str | None = None) -> dict[tuple[str, str], Decimal]:
        """What is still open on each invoice and left on each credit memo."""
        open_ = {
            (kind, id_): self.decimal(doc["TotalAmt"])
            for kind in ("Invoice", "CreditMemo")
            for id_, doc in self.books[kind].items()
        }
        for payment in self.books["Payment"].values():
            if payment["Id"] == excluding:
                continue
            for line in payment.get("Line") or ():
                for link in line.get("LinkedTxn") or ():
                    key = (str(link["TxnType"]), str(link["TxnId"]))
                    open_[key] -= self.decimal(line["Amount"])
        return open_

    def _settle(self) -> None:
        for (kind, id_), left in self._open().items():
            self.books[kind][id_]["Balance"] = left

    def decimal(self, value: Any) -> Decimal:
        return Decimal(str(value or 0)).quantize(self._unit, rounding=ROUND_HALF_UP)

    # Queries.

    def query(self, text: str) -> dict[str, Any]:
        match = _QUERY.match(text)
        if match is None or match.group(1) not in self.books:
            raise QuickBooksFault("4000", "Error parsing query", f"QueryParserError: {text}")
        kind, field, operator, raw, limit = match.groups()
        found = list(self.books[kind].values())
        if field is not None:
            value = re.sub(r"\\(.)", r"\1", raw)
            found = [doc for doc in found if _matches(doc.get(field), operator.lower(), value)]
        found = found[: int(limit or 100)]
        if not found:
            return {}
        return {kind: [dict(doc) for doc in found], "startPosition": 1, "maxResults": len(found)}


def _matches(actual: Any, operator: str, value: str) -> bool:
    if actual is None:
        return False
    if operator == "=":
        return str(actual) == value
    pattern = ".*".join(re.escape(part) for part in value.split("%"))
    return re.fullmatch(pattern, str(actual), re.IGNORECASE) is not None
