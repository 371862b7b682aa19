"""What the person paying sees (`app.payer`): an issued invoice behind its pay link, the
checkout a payment belongs to, and the open invoices the development landing page lists."""

from __future__ import annotations

from datetime import timedelta

import pytest

from justdriving import InvalidInput, NotFound
from justdriving.adapters.memory import FakePaymentGateway, FrozenClock
from justdriving.application import Application
from justdriving.domain.invoices import Invoice
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem

from .support import World, dkk, provider_ref


def _issued(app: Application, world: World, price: str = "500.00") -> Invoice:
    line = LineItem(InvoiceService.LESSON, "Køretime", dkk(price))
    draft = app.draft_invoice(world.school.id, world.student.id, [line])
    return app.issue_invoice(world.school.id, draft.id)


def test_an_issued_invoice_is_shown_with_its_school(app: Application, world: World) -> None:
    invoice = _issued(app, world)

    shown = app.payer.invoice(invoice.id)

    assert shown.invoice.id == invoice.id
    assert shown.school.id == world.school.id


def test_a_draft_or_an_unknown_invoice_has_no_pay_page(app: Application, world: World) -> None:
    line = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))
    draft = app.draft_invoice(world.school.id, world.student.id, [line])

    for invoice_id in (draft.id, "inv_unknown"):
        with pytest.raises(NotFound):
            app.payer.invoice(invoice_id)


def test_a_checkout_is_found_by_the_providers_id_with_its_invoice(
    app: Application, world: World, gateway: FakePaymentGateway
) -> None:
    invoice = _issued(app, world)
    started = app.start_invoice_payment(world.school.id, invoice.id)

    found = app.payer.checkout("fake", provider_ref(gateway, started.payment.id))

    assert found.payment.id == started.payment.id
    assert found.invoice is not None
    assert found.invoice.id == invoice.id
    assert found.school.id == world.school.id
    with pytest.raises(NotFound):
        app.payer.checkout("fake", "pi_unknown")


def test_open_invoices_are_the_unpaid_issued_ones_newest_first_within_the_limit(
    app: Application, world: World, clock: FrozenClock
) -> None:
    first = _issued(app, world)
    clock.advance(timedelta(minutes=1))
    second = _issued(app, world, "250.00")
    app.void_invoice(world.school.id, first.id, reason="Fejl")
    clock.advance(timedelta(minutes=1))
    third = _issued(app, world, "100.00")

    listed = app.payer.open_invoices(10)

    assert [o.invoice.id for o in listed] == [third.id, second.id]
    assert {(o.school_name, o.student_name) for o in listed} == {
        (world.school.name, world.student.name)
    }
    assert [o.invoice.id for o in app.payer.open_invoices(1)] == [third.id]
    with pytest.raises(InvalidInput):
        app.payer.open_invoices(0)
