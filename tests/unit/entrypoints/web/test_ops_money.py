"""The ops page's money: invoices by state, payments (failed with the provider's reason,
held, overpaid), balances and disputes, searchable by student and linked to each other; in
Danish and English, in the school's local time, with names that show their ids on hover;
a deferred SMS is deferred; the form token works in any process; cookies behind a proxy."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from justdriving.adapters.memory import FrozenClock
from justdriving.config import QueueBackend
from justdriving.domain.disputes import Dispute
from justdriving.domain.ids import DisputeId, new_id
from justdriving.domain.messages import Channel
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind, OutboxMessage, OutboxStatus
from justdriving.domain.schools import SchoolSettings
from money_scenario import MoneyScenario, a_lesson, seed_money

from .support import Site, build_site, settings_for

TOKEN = "ops-money-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def ops_site() -> Site:
    return build_site(settings_for(queue=QueueBackend.INLINE, ops_token=TOKEN))


@pytest.fixture
def money(ops_site: Site) -> MoneyScenario:
    clock = ops_site.container.clock()
    assert isinstance(clock, FrozenClock)
    return seed_money(ops_site.app, clock)


def page(site: Site, url: str, client: FlaskClient | None = None) -> str:
    answer = (client or site.client()).get(url, headers=BEARER)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return answer.get_data(as_text=True)


def text(html: str) -> str:
    """The words a reader sees."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&#34;", '"')


def row(html: str, css: str, id_: str) -> str:
    match = re.search(rf'<tr class="{css}" data-id="{id_}".*?</tr>', html, flags=re.S)
    assert match is not None, f"no {css} row {id_}"
    return text(match.group(0))


class TestMoneyAtAGlance:
    def test_invoice_3_is_paid_by_mobilepay_and_jonas_owes_500_in_english(
        self, ops_site: Site, money: MoneyScenario
    ) -> None:
        html = page(ops_site, "/ops?lang=en")
        paid = re.search(r'<div id="invoices-paid">.*?</div>', html, flags=re.S)
        assert paid is not None
        assert row(paid.group(0), "invoice", money.invoice_3).startswith("3 Jonas Madsen paid")
        assert f'href="/ops/invoices/{money.invoice_3}"' in html
        balance = row(html, "balance", money.jonas)
        assert "Jonas Madsen" in balance
        assert "500.00 DKK overdue 500.00 DKK (1)" in balance

        detail = text(page(ops_site, f"/ops/invoices/{money.invoice_3}?lang=en"))
        assert "Invoice 3 paid" in detail
        assert "Outstanding 0.00 DKK" in detail
        assert "750.00 DKK succeeded mobilepay (ref MP-1234)" in detail
        assert "Jonas Madsen owes 500.00 DKK" in detail

    def test_the_same_answers_in_danish_the_schools_language(
        self, ops_site: Site, money: MoneyScenario
    ) -> None:
        html = page(ops_site, "/ops")  # no choice made: the school's language, Danish
        assert '<html lang="da">' in html
        assert "Fakturaer" in html
        assert row(html, "balance", money.jonas).startswith("Jonas Madsen Køreskolen Øst 500,00")

        detail = text(page(ops_site, f"/ops/invoices/{money.invoice_3}"))
        assert "Faktura 3 betalt" in detail
        assert "750,00 DKK gennemført MobilePay (ref. MP-1234)" in detail
        assert "Jonas Madsen skylder 500,00 DKK" in detail
        assert "forfalden 500,00 DKK" in detail

    def test_invoices_are_grouped_overdue_open_paid_and_void(
        self, ops_site: Site, money: MoneyScenario
    ) -> None:
        app = ops_site.app
        app.void_invoice(money.school_id, money.invoice_2, reason="sent twice")
        fresh = app.draft_invoice(money.school_id, money.ida, a_lesson("200.00"))
        app.issue_invoice(money.school_id, fresh.id)
        html = page(ops_site, "/ops?lang=en")

        def ids_in(state: str) -> list[str]:
            block = re.search(rf'<div id="invoices-{state}">.*?</div>', html, flags=re.S)
            assert block is not None
            return re.findall(r'<tr class="invoice" data-id="([^"]+)"', block.group(0))

        assert ids_in("overdue") == [money.invoice_1]
        assert ids_in("open") == [fresh.id]
        assert ids_in("paid") == [money.invoice_3]
        assert ids_in("void") == [money.invoice_2]

    def test_a_declined_payment_shows_the_providers_reason_redacted_and_links_its_invoice(
        self, ops_site: Site, money: MoneyScenario
    ) -> None:
        html = page(ops_site, "/ops?lang=en")
        failed = row(html, "failed-payment", money.declined)
        assert "Jonas Madsen 1 500.00 DKK failed fake" in failed
        assert "card_declined: insufficient funds (contact j***@example.dk)" in failed
        assert "jonas.madsen@example.dk" not in html

        detail = page(ops_site, f"/ops/payments/{money.declined}?lang=en")
        assert "insufficient funds" in text(detail)
        assert f'href="/ops/invoices/{money.invoice_1}"' in detail
        assert f'href="/ops?student={money.jonas}#money"' in detail

    def test_names_carry_their_ids_on_hover_and_times_are_local(
        self, ops_site: Site, money: MoneyScenario
    ) -> None:
        english = page(ops_site, "/ops?lang=en")
        danish = page(ops_site, "/ops?lang=da")
        assert f'title="{money.jonas}">Jonas Madsen</a>' in english
        assert f'title="{money.school_id}">Køreskolen Øst</span>' in english
        # The MobilePay payment: 2027-01-13 09:30 UTC is 10:30 in Copenhagen (CET).
        mobilepay = row(english, "payment", money.mobilepay)
        assert "2027-01-13 10:30 CET" in mobilepay
        assert "13.01.2027 10:30 CET" in row(danish, "payment", money.mobilepay)
        assert 'datetime="2027-01-13T09:30:00+00:00"' in english
        assert "Times in Europe/Copenhagen" in text(english)

    def test_disputes_are_listed_with_the_student_and_link_the_payment(
        self, ops_site: Site, money: MoneyScenario
    ) -> None:
        dispute = Dispute(
            id=DisputeId("dp_1"),
            school_id=money.school_id,  # type: ignore[arg-type]
            payment_id=money.mobilepay,  # type: ignore[arg-type]
            provider_dispute_id="du_1",
            status="needs_response",
            opened_at=datetime(2027, 1, 14, 12, 0, tzinfo=UTC),
            amount=Money.parse("750.00", "DKK"),
        )
        with ops_site.app.uow() as uow:
            uow.disputes.add(dispute)
            uow.commit()
        html = page(ops_site, "/ops?lang=en")
        shown = row(html, "dispute", "dp_1")
        assert "Jonas Madsen needs_response 750.00 DKK 2027-01-14 13:00 CET" in shown
        assert f'href="/ops/payments/{money.mobilepay}"' in html

    def test_unknown_invoices_and_payments_are_404(self, ops_site: Site) -> None:
        client = ops_site.client()
        assert client.get("/ops/invoices/inv_nope", headers=BEARER).status_code == 404
        assert client.get("/ops/payments/pay_nope", headers=BEARER).status_code == 404


class TestSearch:
    def test_one_student_found_narrows_the_money_to_them(
        self, ops_site: Site, money: MoneyScenario
    ) -> None:
        html = page(ops_site, "/ops?lang=en&student=jonas")
        assert f'title="{money.jonas}">Jonas Madsen</span>' in html
        invoices = re.findall(r'<tr class="invoice" data-id="([^"]+)"', html)
        assert sorted(set(invoices)) == sorted({money.invoice_1, money.invoice_3})
        assert re.findall(r'<tr class="balance" data-id="([^"]+)"', html) == [money.jonas]

    def test_several_matches_are_listed_to_choose_from_and_none_is_said(
        self, ops_site: Site, money: MoneyScenario
    ) -> None:
        several = page(ops_site, "/ops?lang=en&student=o")  # jOnas, hOlm (twice: two schools)
        assert 'id="matches"' in several
        assert f'href="/ops?student={money.jonas}#money"' in several
        assert '<tr class="invoice"' not in several
        nobody = page(ops_site, "/ops?lang=en&student=%3Cb%3EZed")
        assert "No student matches" in nobody
        assert "&lt;b&gt;Zed" in nobody


class TestLanguage:
    def test_the_choice_is_kept_in_a_cookie(self, ops_site: Site, money: MoneyScenario) -> None:
        client = ops_site.client()
        first = client.get("/ops?lang=en", headers=BEARER)
        assert "justdriving_ops_lang=en" in first.headers["Set-Cookie"] or any(
            "justdriving_ops_lang=en" in c for c in first.headers.getlist("Set-Cookie")
        )
        assert '<html lang="en">' in page(ops_site, "/ops", client)
        assert '<html lang="da">' in page(ops_site, "/ops?lang=da", client)

    def test_a_school_that_speaks_english_gets_english(self) -> None:
        site = build_site(settings_for(queue=QueueBackend.INLINE, ops_token=TOKEN))
        with site.app.uow() as uow:  # the only school speaks English
            school = uow.schools.get(site.school_id)
            school.settings = SchoolSettings(language="en")
            uow.commit()
        assert '<html lang="en">' in page(site, "/ops")

    def test_every_text_the_templates_ask_for_has_its_danish(self) -> None:
        from pathlib import Path

        from justdriving.entrypoints.web import ops_texts

        folder = Path(ops_texts.__file__).parent / "templates" / "ops"
        asked = set()
        for template in folder.glob("*.html"):
            asked |= set(re.findall(r"""\bt\((["'])(.+?)\1\)""", template.read_text()))
        missing = sorted(words for _, words in asked if words not in ops_texts.DANISH)
        assert missing == []


class TestTrueStatuses:
    def test_an_sms_deferred_by_quiet_hours_is_deferred_not_failed(self, ops_site: Site) -> None:
        clock = ops_site.container.clock()
        assert isinstance(clock, FrozenClock)
        clock.set(datetime(2027, 1, 15, 22, 30, tzinfo=UTC))  # 23:30 in Copenhagen
        school = ops_site.app.register_school("Køreskolen Nat", phone_region="DK")
        ops_site.app.add_student(school.id, "Bo Berg", phone="20 98 76 54")
        ops_site.app.announce(school.id, "Husk prøven", channels=frozenset({Channel.SMS}))
        assert ops_site.app.relay_outbox().deferred == 1

        html = page(ops_site, "/ops?lang=en")
        assert 'class="count-deferred">deferred: <strong>1</strong>' in html
        assert 'class="count-failed">failed: <strong>0</strong>' in html
        [message] = re.findall(r'<tr class="message".*?</tr>', html, flags=re.S)
        assert "status-deferred" in message
        assert "until 2027-01-16 08:00 CET" in text(message)
        assert "quiet hours until 2027-01-16 07:00 UTC" in text(message)  # no date masked
        danish = text(page(ops_site, "/ops?lang=da"))
        assert "udskudt indtil 16.01.2027 08:00 CET" in danish
        clock.set(datetime(2027, 1, 16, 7, 1, tzinfo=UTC))
        assert ops_site.app.relay_outbox().sent == 1
        assert "status-sent" in page(ops_site, "/ops?lang=en")


class TestFormsAcrossProcesses:
    def test_a_form_from_one_process_is_accepted_by_another_with_the_same_token(
        self,
    ) -> None:
        settings = settings_for(queue=QueueBackend.INLINE, ops_token=TOKEN)
        one, other = build_site(settings), build_site(settings)  # two keys, were it random
        _dead_row(one)
        client = one.client()
        form = page(one, "/ops", client)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        nonce = client.get_cookie("justdriving_ops_nonce", path="/ops")
        assert nonce is not None

        elsewhere = other.client()
        elsewhere.set_cookie("justdriving_ops_nonce", nonce.value, path="/ops")
        answer = elsewhere.post(
            "/ops/outbox/nope/retry", headers=BEARER, data={"csrf_token": token[1]}
        )
        assert answer.status_code == 404  # past the CSRF check: that row is not there

        stranger = build_site(settings_for(queue=QueueBackend.INLINE, ops_token="other-token"))
        foreign = stranger.client()
        foreign.set_cookie("justdriving_ops_nonce", nonce.value, path="/ops")
        refused = foreign.post(
            "/ops/outbox/nope/retry",
            headers={"Authorization": "Bearer other-token"},
            data={"csrf_token": token[1]},
        )
        assert refused.status_code == 403  # another OPS_TOKEN, another key


class TestCookiesBehindAProxy:
    @pytest.mark.parametrize(("hops", "secure"), [(0, False), (1, True)])
    def test_the_nonce_cookie_is_secure_when_the_proxy_says_https(
        self, hops: int, secure: bool
    ) -> None:
        site = build_site(
            settings_for(queue=QueueBackend.INLINE, ops_token=TOKEN, trusted_proxy_hops=hops)
        )
        answer = site.client().get(
            "/ops", headers={**BEARER, "X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9"}
        )
        [cookie] = [c for c in answer.headers.getlist("Set-Cookie") if "ops_nonce" in c]
        assert ("Secure" in cookie) is secure
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie


def _dead_row(site: Site) -> str:
    row = OutboxMessage(
        id=new_id("obx"),
        kind=OutboxKind.SEND_SMS,
        school_id=site.school_id,
        payload={"message_id": "msg_gone"},
        idempotency_key=new_id("key"),
        created_at=datetime(2027, 1, 15, 9, 0, tzinfo=UTC),
        status=OutboxStatus.DEAD,
        attempts=5,
        last_error="provider said no",
    )
    with site.app.uow() as uow:
        uow.outbox.add(row)
        uow.commit()
    return row.id
