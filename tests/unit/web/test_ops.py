"""The ops page: off without OPS_TOKEN, behind the token, and retrying a dead outbox row."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import pytest
from attrs import evolve
from flask.testing import FlaskClient

from justdriving.adapters.memory import FakeAccountingClient, FakeSmsSender
from justdriving.config import AccountingProvider, QueueBackend
from justdriving.domain.accounting import SyncRun
from justdriving.domain.errors import ProviderRejected
from justdriving.domain.messages import Channel
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind, OutboxStatus
from justdriving.domain.payments import PaymentMethod
from justdriving.domain.schools import AccountMapping, InvoiceService, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.domain.services.views.ops import OpsView
from justdriving.logs import Redactor

from .support import Site, build_site, settings_for

TOKEN = "ops-secret-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def _basic(user: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


@pytest.fixture
def ops_site() -> Site:
    return build_site(settings_for(queue=QueueBackend.INLINE, ops_token=TOKEN))


def _failed_sms(site: Site) -> str:
    """An SMS the provider rejects for good: its outbox row is dead. Returns the row's id."""
    school = site.app.register_school(
        "Køreskolen Ops", settings=SchoolSettings(quiet_hours=None), phone_region="DK"
    )
    site.app.add_student(school.id, "Bo Berg", phone="20 98 76 54", email="bo.berg@example.dk")
    assert (
        site.app.announce(
            school.id, "Ring til bo.berg@example.dk", channels=frozenset({Channel.SMS})
        )
        == 1
    )
    sms: FakeSmsSender = site.container.sms()
    sms.fail_next(
        ProviderRejected("fake", "invalid destination +4520987654", provider_code="21211")
    )
    assert site.app.relay_outbox().dead == 1
    with site.app.uow() as uow:
        [row] = [r for r in uow.outbox.list("dead") if r.kind is OutboxKind.SEND_SMS]
    return row.id


def _csrf(client: FlaskClient) -> str:
    page = client.get("/ops", headers=BEARER)
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match is not None
    return match.group(1)


class TestAccess:
    def test_every_ops_route_is_a_404_without_a_configured_token(self, site: Site) -> None:
        client = site.client()
        assert client.get("/ops", headers=BEARER).status_code == 404
        assert client.post("/ops/outbox/x/retry", headers=BEARER).status_code == 404

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"Authorization": "Bearer wrong"},
            _basic("ops", "wrong"),
            {"Authorization": "Basic !!not-base64"},
            {"Authorization": f"Token {TOKEN}"},
        ],
        ids=["none", "wrong-bearer", "wrong-basic", "bad-basic", "other-scheme"],
    )
    def test_without_the_token_the_answer_is_401_asking_for_basic_auth(
        self, ops_site: Site, headers: dict[str, str]
    ) -> None:
        for answer in (
            ops_site.client().get("/ops", headers=headers),
            ops_site.client().post("/ops/outbox/x/retry", headers=headers),
        ):
            assert answer.status_code == 401
            assert answer.headers["WWW-Authenticate"].startswith('Basic realm="justdriving ops"')

    @pytest.mark.parametrize("headers", [BEARER, _basic("anyone", TOKEN)], ids=["bearer", "basic"])
    def test_the_token_opens_the_page(self, ops_site: Site, headers: dict[str, str]) -> None:
        answer = ops_site.client().get("/ops", headers=headers)
        assert answer.status_code == 200
        assert answer.mimetype == "text/html"
        assert "no-store" in answer.headers["Cache-Control"]
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
        html = answer.get_data(as_text=True)
        assert "http://" not in html
        assert "https://" not in html


class TestPage:
    def test_a_failed_message_and_its_dead_row_are_listed_redacted(self, ops_site: Site) -> None:
        row_id = _failed_sms(ops_site)
        html = ops_site.client().get("/ops?lang=en", headers=BEARER).get_data(as_text=True)
        assert row_id in html
        assert "invalid destination" in html
        assert "21211" in html
        assert "status-failed" in html
        assert "+45******54" in html  # the recipient, masked
        assert "20987654" not in html
        assert "bo.berg@example.dk" not in html
        assert "dead: <strong>1</strong>" in html

    def test_a_payment_held_for_review_is_listed_with_its_invoice(self, ops_site: Site) -> None:
        checkout = ops_site.checkout()
        ops_site.post(ops_site.gateway.succeed(checkout.ref, Money(49_900, "DKK")))
        html = ops_site.client().get("/ops?lang=en", headers=BEARER).get_data(as_text=True)
        assert f'class="held-payment" data-id="{checkout.payment_id}"' in html
        assert "expected" in html
        assert f'href="/ops/invoices/{checkout.invoice_id}"' in html

    def test_an_overpayment_is_listed_with_how_to_give_it_back(self, ops_site: Site) -> None:
        invoice_id = ops_site.open_invoice()
        payment = ops_site.app.record_manual_payment(
            ops_site.school_id,
            ops_site.student_id,
            amount=Money(60_000, "DKK"),
            method=PaymentMethod.CASH,
            invoice_id=invoice_id,
        )
        html = ops_site.client().get("/ops?lang=en", headers=BEARER).get_data(as_text=True)
        assert f'class="overpayment" data-id="{payment.id}"' in html
        assert "100.00 DKK" in html
        assert "justdriving payments refund-overpayment" in html

    def test_sync_runs_are_listed_with_their_failures_redacted(self, ops_site: Site) -> None:
        now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        run = SyncRun(
            id="sync_ops_1",
            provider="xero",
            school_id=ops_site.school_id,
            started_at=now,
            finished_at=now,
            pushed=3,
            failures=(("inv_1", "contact ida@example.dk rejected: invalid VAT number"),),
        )
        with ops_site.app.uow() as uow:
            uow.sync_runs.add(run)
            uow.commit()
        html = ops_site.client().get("/ops?lang=en", headers=BEARER).get_data(as_text=True)
        assert 'class="sync-run" data-id="sync_ops_1"' in html
        assert "inv_1" in html
        assert "i***@example.dk rejected: invalid VAT number" in html
        assert "ida@example.dk" not in html

    def test_markup_in_errors_is_escaped(self, ops_site: Site) -> None:
        school = ops_site.app.register_school(
            "Køreskolen X", settings=SchoolSettings(quiet_hours=None), phone_region="DK"
        )
        ops_site.app.add_student(school.id, "Eva", phone="20 11 22 33")
        ops_site.app.announce(school.id, "Hej", channels=frozenset({Channel.SMS}))
        sms: FakeSmsSender = ops_site.container.sms()
        sms.fail_next(ProviderRejected("fake", "<script>alert(1)</script>"))
        ops_site.app.relay_outbox()
        html = ops_site.client().get("/ops?lang=en", headers=BEARER).get_data(as_text=True)
        assert "<script>alert" not in html
        assert "&lt;script&gt;" in html


class TestRetry:
    def test_without_the_csrf_token_the_retry_is_refused(self, ops_site: Site) -> None:
        row_id = _failed_sms(ops_site)
        client = ops_site.client()
        _csrf(client)  # the cookie is set, the form field is missing
        assert client.post(f"/ops/outbox/{row_id}/retry", headers=BEARER).status_code == 403
        forged = client.post(
            f"/ops/outbox/{row_id}/retry", headers=BEARER, data={"csrf_token": "forged"}
        )
        assert forged.status_code == 403
        other = ops_site.client()  # a token from another session, without its cookie
        answer = other.post(
            f"/ops/outbox/{row_id}/retry", headers=BEARER, data={"csrf_token": _csrf(client)}
        )
        assert answer.status_code == 403
        with ops_site.app.uow() as uow:
            assert uow.outbox.get(row_id).status is OutboxStatus.DEAD

    def test_with_the_csrf_token_the_dead_row_is_revived_and_then_sent(
        self, ops_site: Site
    ) -> None:
        row_id = _failed_sms(ops_site)
        client = ops_site.client()
        answer = client.post(
            f"/ops/outbox/{row_id}/retry", headers=BEARER, data={"csrf_token": _csrf(client)}
        )
        assert answer.status_code == 303
        assert answer.headers["Location"].startswith("/ops")
        with ops_site.app.uow() as uow:
            assert uow.outbox.get(row_id).status is OutboxStatus.PENDING
        assert ops_site.app.relay_outbox().sent == 1
        html = client.get("/ops?lang=en", headers=BEARER).get_data(as_text=True)
        assert "status-sent" in html
        assert "dead: <strong>0</strong>" in html

    def test_an_unknown_row_is_a_404(self, ops_site: Site) -> None:
        _failed_sms(ops_site)  # a dead row, so that the page has a form
        client = ops_site.client()
        answer = client.post(
            "/ops/outbox/nope/retry", headers=BEARER, data={"csrf_token": _csrf(client)}
        )
        assert answer.status_code == 404


class TestAccountingPushRetry:
    """The accounting push is an outbox row like the others: given up, shown, retried."""

    def test_a_dead_accounting_push_is_shown_and_retried_from_the_ops_page(self) -> None:
        site = build_site(
            settings_for(
                queue=QueueBackend.INLINE,
                ops_token=TOKEN,
                accounting_provider=AccountingProvider.FAKE,
                accounting_sync_enabled=True,
            )
        )
        books: FakeAccountingClient = site.container.accounting()
        lesson = LineItem(InvoiceService.LESSON, "Køretime", Money.parse("500.00", "DKK"))
        draft = site.app.draft_invoice(site.school_id, site.student_id, [lesson])
        site.app.issue_invoice(site.school_id, draft.id)  # the school has no account codes yet
        assert site.app.relay_outbox().dead == 1
        with site.app.uow() as uow:
            [row] = [r for r in uow.outbox.list("dead") if r.kind is OutboxKind.PUSH_ACCOUNTING]
        client = site.client()
        assert "push_accounting" in client.get("/ops", headers=BEARER).get_data(as_text=True)

        with site.app.uow() as uow:  # the accountant maps the lesson account
            school = uow.schools.get(site.school_id)
            accounts = {InvoiceService.LESSON: AccountMapping("1000", "U25")}
            school.settings = evolve(school.settings, account_map=accounts)
            uow.commit()
        answer = client.post(
            f"/ops/outbox/{row.id}/retry", headers=BEARER, data={"csrf_token": _csrf(client)}
        )

        assert answer.status_code == 303
        assert site.app.relay_outbox().sent == 1
        assert draft.id in books.invoices
        with site.app.uow() as uow:
            assert uow.outbox.get(row.id).status is OutboxStatus.SENT


class TestRedaction:
    def test_the_view_shows_stored_errors_through_the_log_redaction_and_cuts_long_ones(
        self, ops_site: Site
    ) -> None:
        row_id = _failed_sms(ops_site)
        leaked = "535 auth failed for user ops with password Sm7p-pass-w0rd (MAIL_PASSWORD)"
        with ops_site.app.uow() as uow:
            uow.outbox.get(row_id).last_error = f"{leaked} to anna@example.dk " + "x" * 400
            uow.commit()
        view = OpsView(
            ops_site.app.uow, ops_site.app.clock, redact=Redactor(["Sm7p-pass-w0rd"]).text
        )
        [dead] = view.snapshot().dead
        assert dead.last_error is not None
        assert "Sm7p-pass-w0rd" not in dead.last_error
        assert "[redacted]" in dead.last_error
        assert "a***@example.dk" in dead.last_error
        assert len(dead.last_error) == 300
        assert dead.last_error.endswith("…")

    def test_a_date_in_a_decision_is_not_masked_as_a_phone_number(self) -> None:
        text = "quiet hours until 2026-12-08 06:00 UTC; call +45 20 12 34 56"
        shown = Redactor().text(text)
        assert "quiet hours until 2026-12-08 06:00 UTC" in shown
        assert "20 12 34" not in shown

    def test_the_view_reads_only(self, ops_site: Site) -> None:
        _failed_sms(ops_site)
        snapshot = OpsView(ops_site.app.uow, ops_site.app.clock).snapshot()
        assert snapshot.count("dead") == 1
        assert [m.status for m in snapshot.messages] == ["failed"]
        assert snapshot.sync_runs == ()
        assert snapshot.held_payments == ()
