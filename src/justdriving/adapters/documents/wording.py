"""What an invoice PDF says in Danish and English: labels, and dates and amounts as each
language writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from attrs import frozen

from justdriving.domain.money import Money, currency_exponent
from justdriving.domain.tax import TaxRate


@frozen
class Wording:
    language: str
    invoice: str
    credit_note: str
    number: str
    issue_date: str
    due_date: str
    corrects: str
    reason: str
    void: str
    vat_number: str
    to: str
    description: str
    quantity: str
    unit_price: str
    vat: str
    amount: str
    net: str
    total: str
    excl_vat_note: str
    decimal_point: str
    thousands: str
    date_format: str

    def money(self, value: Money, *, with_currency: bool = False) -> str:
        """`1.250,00` in Danish, `1,250.00` in English, with the currency's own decimals."""
        decimals = currency_exponent(value.currency)
        text = f"{value.to_decimal():,.{decimals}f}"
        text = text.replace(",", "\0").replace(".", self.decimal_point)
        text = text.replace("\0", self.thousands)
        return f"{text} {value.currency}" if with_currency else text

    def rate(self, rate: TaxRate) -> str:
        percent = Decimal(rate.basis_points) / 100
        text = f"{percent.normalize():f}".replace(".", self.decimal_point)
        return f"{text} %"

    def day(self, value: date) -> str:
        return value.strftime(self.date_format)


DANISH = Wording(
    language="da",
    invoice="Faktura",
    credit_note="Kreditnota",
    number="Nummer",
    issue_date="Dato",
    due_date="Forfaldsdato",
    corrects="Krediterer faktura",
    reason="Årsag",
    void="Annulleret",
    vat_number="CVR-nr.",
    to="Til",
    description="Beskrivelse",
    quantity="Antal",
    unit_price="Enhedspris",
    vat="Moms",
    amount="Beløb inkl. moms",
    net="Beløb ekskl. moms",
    total="I alt",
    excl_vat_note="* ekskl. moms",
    decimal_point=",",
    thousands=".",
    date_format="%d.%m.%Y",
)

ENGLISH = Wording(
    language="en",
    invoice="Invoice",
    credit_note="Credit note",
    number="Number",
    issue_date="Date",
    due_date="Due date",
    corrects="Corrects invoice",
    reason="Reason",
    void="Void",
    vat_number="VAT no.",
    to="To",
    description="Description",
    quantity="Qty",
    unit_price="Unit price",
    vat="VAT",
    amount="Amount incl. VAT",
    net="Amount excl. VAT",
    total="Total",
    excl_vat_note="* excl. VAT",
    decimal_point=".",
    thousands=",",
    date_format="%Y-%m-%d",
)

WORDINGS = {wording.language: wording for wording in (DANISH, ENGLISH)}


def wording_for(*languages: str) -> Wording:
    """The first of `languages` there is wording for; Danish when none is known."""
    return next((WORDINGS[lang] for lang in languages if lang in WORDINGS), DANISH)
