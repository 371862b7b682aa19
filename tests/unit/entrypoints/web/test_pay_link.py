"""The pay link printed on an invoice (`/pay/<token>`, signed for it and expiring) and, in
development, the landing page at `/`."""

from __future__ import annotations

from datetime import timedelta

from justdriving.adapters.memory import FrozenClock
from justdriving.config import AppEnv
from justdriving.domain.money import Money
from justdriving.domain.payments import PaymentMethod
from justdriving.entrypoints.flask_app import create_app

from .support import Site, build_site, settings_for


def _link(site: Site, invoice_id: str) -> str:
    return site.app.payer.link_path(invoice_id)


def test_the_pay_page_shows_the_lines_with_vat_in_the_schools_language(site: Site) -> None:
    invoice_id = site.open_invoice()

    answer = site.client().get(_link(site, invoice_id))

    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert '<html lang="da">' in page
    for expected in ("Faktura 1", "Køretime", "400,00", "Moms 25 % af 400,00", "500,00 DKK"):
        assert expected in page, expected
    assert "Betal 500,00 DKK" in page
    assert "Development only" not in page  # the real pay page, in production too


def test_paying_starts_the_invoices_checkout_and_again_gives_the_same_one(site: Site) -> None:
    invoice_id = site.open_invoice()
    client = site.client()

    first = client.post(_link(site, invoice_id))
    second = client.post(_link(site, invoice_id))

    assert first.status_code == 303
    assert first.headers["Location"].startswith("http://localhost/dev/checkout/fake_pi_")
    assert second.headers["Location"] == first.headers["Location"]
    with site.app.uow() as uow:
        [payment] = uow.payments.for_student(site.school_id, site.student_id)
    assert payment.invoice_id == invoice_id


def test_a_paid_invoice_shows_paid_and_cannot_be_paid_again(site: Site) -> None:
    invoice_id = site.open_invoice()
    site.app.record_manual_payment(
        site.school_id,
        site.student_id,
        amount=Money(50000, "DKK"),
        method=PaymentMethod.CASH,
        invoice_id=invoice_id,
    )
    client = site.client()

    page = client.get(_link(site, invoice_id)).get_data(as_text=True)
    again = client.post(_link(site, invoice_id))

    assert "Betalt" in page
    assert "<form" not in page
    assert again.status_code == 409
    assert again.json["error"]["code"] == "payment_not_allowed"
    with site.app.uow() as uow:
        assert uow.payments.for_student(site.school_id, site.student_id)[0].method == "cash"


def test_an_unknown_or_draft_invoice_is_404(site: Site) -> None:
    from justdriving.domain.schools import InvoiceService
    from justdriving.domain.services.invoicing import LineItem

    line = LineItem(InvoiceService.LESSON, "Køretime", Money(50000, "DKK"))
    draft = site.app.draft_invoice(site.school_id, site.student_id, [line])
    client = site.client()

    for path in ("/pay/inv_nope", _link(site, draft.id), f"/pay/{site.open_invoice()}"):
        assert client.get(path).status_code == 404
        assert client.post(path).status_code == 404


def test_in_development_the_landing_page_links_the_pay_pages_ops_and_docs() -> None:
    site = build_site(settings_for(ops_token="s3cret-token"))
    invoice_id = site.open_invoice()

    answer = site.client().get("/")

    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f'href="{_link(site, invoice_id)}"' in page
    assert 'href="/ops"' in page
    assert 'href="/healthz"' in page
    assert 'href="/docs/README.md"' in page  # this is a source checkout
    readme = site.client().get("/docs/README.md")
    assert readme.status_code == 200
    assert "# justdriving" in readme.get_data(as_text=True)
    assert site.client().get("/docs/..%2Fpyproject.toml").status_code == 404


def test_in_production_there_is_no_landing_page_but_the_pay_link_works() -> None:
    site = build_site(settings_for())
    site.container.settings.override(settings_for(app_env=AppEnv.PRODUCTION))
    client = create_app(site.container).test_client()
    invoice_id = site.open_invoice()

    assert client.get("/").status_code == 404
    assert client.get("/docs/README.md").status_code == 404
    assert client.get(_link(site, invoice_id)).status_code == 200


def test_an_expired_link_shows_the_invoice_without_a_pay_button_and_cannot_pay(
    site: Site,
) -> None:
    invoice_id = site.open_invoice()
    link = _link(site, invoice_id)
    clock = site.container.clock()
    assert isinstance(clock, FrozenClock)
    clock.advance(timedelta(days=site.container.settings().pay_link_days, seconds=1))
    client = site.client()

    page = client.get(link)
    paying = client.post(link)

    assert page.status_code == 410
    assert "Dette betalingslink er udløbet" in page.get_data(as_text=True)
    assert "<form" not in page.get_data(as_text=True)
    assert paying.status_code == 410
    assert paying.json["error"]["code"] == "pay_link_expired"
    assert site.container.store().counts()["payments"] == 0
    assert client.get(_link(site, invoice_id)).status_code == 200  # a fresh link works


def test_a_link_cannot_be_turned_into_another_invoices_link(site: Site) -> None:
    mine, theirs = site.open_invoice(), site.open_invoice()
    token = _link(site, mine).removeprefix("/pay/")
    forged = token.replace(mine, theirs)

    assert forged != token
    assert site.client().get(f"/pay/{forged}").status_code == 404
    assert site.client().post(f"/pay/{forged}").status_code == 404
    assert site.container.store().counts()["payments"] == 0
