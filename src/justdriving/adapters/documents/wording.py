"""What an invoice PDF and the checkout page say in Danish and English: labels, and dates and
amounts as each language writes them (dates as in messages: `domain.formatting.DATE_FORMATS`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from attrs import frozen

from justdriving.domain.formatting import DATE_FORMATS
from justdriving.domain.money import Money, currency_exponent
from justdriving.domain.tax import TaxRate


@frozen
class Wording:
    language: str
    invoice: str
    credit_note: str
    number: str
    issue_date: str
    delivery_date: str
    due_date: str
    corrects: str
    reason: str
    void: str
    vat_number: str
    cvr_number: str
    to: str
    description: str
    quantity: str
    unit_price: str
    vat: str
    amount: str
    net: str
    vat_of: str
    total: str
    outstanding: str
    pay_online: str
    pay: str
    paid: str
    link_expired: str
    decimal_point: str
    thousands: str

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
        return value.strftime(DATE_FORMATS[self.language])

    def vat_line(self, rate: TaxRate, net: Money) -> str:
        """`Moms 25 % af 400,00`: the VAT of one rate and the amount it is charged on."""
        return self.vat_of.format(rate=self.rate(rate), net=self.money(net))


DANISH = Wording(
    language="da",
    invoice="Faktura",
    credit_note="Kreditnota",
    number="Fakturanummer",
    issue_date="Fakturadato",
    delivery_date="Leveringsdato",
    due_date="Forfaldsdato",
    corrects="Krediterer faktura",
    reason="Årsag",
    void="Annulleret",
    vat_number="CVR-nr.",
    cvr_number="CVR-nr.",
    to="Til",
    description="Beskrivelse",
    quantity="Antal",
    unit_price="Enhedspris ekskl. moms",
    vat="Moms",
    amount="Beløb ekskl. moms",
    net="I alt ekskl. moms",
    vat_of="Moms {rate} af {net}",
    total="I alt inkl. moms",
    outstanding="Til betaling",
    pay_online="Betal online",
    pay="Betal",
    paid="Betalt",
    link_expired=(
        "Dette betalingslink er udløbet. Brug linket i din seneste påmindelse, "
        "eller kontakt {school}."
    ),
    decimal_point=",",
    thousands=".",
)

ENGLISH = Wording(
    language="en",
    invoice="Invoice",
    credit_note="Credit note",
    number="Invoice number",
    issue_date="Invoice date",
    delivery_date="Delivery date",
    due_date="Due date",
    corrects="Corrects invoice",
    reason="Reason",
    void="Void",
    vat_number="VAT no.",
    cvr_number="CVR no.",
    to="To",
    description="Description",
    quantity="Qty",
    unit_price="Unit price excl. VAT",
    vat="VAT",
    amount="Amount excl. VAT",
    net="Total excl. VAT",
    vat_of="VAT {rate} of {net}",
    total="Total incl. VAT",
    outstanding="Amount due",
    pay_online="Pay online",
    pay="Pay",
    paid="Paid",
    link_expired=(
        "This pay link has expired. Use the link in your latest reminder, or contact {school}."
    ),
    decimal_point=".",
    thousands=",",
)

WORDINGS = {wording.language: wording for wording in (DANISH, ENGLISH)}


def wording_for(*languages: str) -> Wording:
    """The first of `languages` there is wording for; Danish when none is known."""
    return next((WORDINGS[lang] for lang in languages if lang in WORDINGS), DANISH)
