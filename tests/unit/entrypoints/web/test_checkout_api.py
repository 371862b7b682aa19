"""POST /api/invoices/<invoice_id>/payments: start paying an open invoice."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Response, jsonify

from justdriving.domain.errors import (
    ConfigurationError,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.schools import InvoiceService, SchoolSettings
from justdriving.domain.services.invoicing import LineItem

from .support import Site, build_site, settings_for


def _start(site: Site, invoice_id: str, body: Any = None, **kwargs: Any) -> Any:
    return site.client().post(f"/api/invoices/{invoice_id}/payments", json=body, **kwargs)


def test_starting_a_payment_answers_201_with_what_the_front_end_needs() -> None:
    site = build_site(settings_for(return_url_hosts=("school.example",)))
    invoice_id = site.open_invoice()

    answer = _start(
        site, invoice_id, {"school_id": site.school_id, "return_url": "https://school.example/x"}
    )

    assert answer.status_code == 201
    body = answer.json
    assert set(body) == {"payment_id", "provider", "client_secret", "redirect_url", "invoice"}
    assert body["provider"] == "fake"
    assert body["client_secret"].startswith("fake_pi_")
    assert body["redirect_url"].startswith("/dev/checkout/fake_pi_")
    with site.app.uow() as uow:
        assert uow.payments.get(body["payment_id"]).invoice_id == invoice_id


def test_the_answer_shows_the_invoices_lines_with_vat_in_the_schools_language(
    site: Site,
) -> None:
    invoice = _start(site, site.open_invoice(), {"school_id": site.school_id}).json["invoice"]

    assert invoice["language"] == "da"  # the school's
    assert invoice["labels"]["vat"] == "Moms"
    [line] = invoice["lines"]
    assert (line["quantity"], line["unit_price"], line["vat_rate"]) == (1, "400,00", "25 %")
    assert invoice["vat"] == [{"label": "Moms 25 % af 400,00", "amount": "100,00"}]
    assert (invoice["net"], invoice["total"]) == ("400,00 DKK", "500,00 DKK")


def test_a_paid_invoice_is_409(inline_site: Site) -> None:
    checkout = inline_site.checkout()
    inline_site.post(inline_site.gateway.succeed(checkout.ref))

    answer = _start(inline_site, checkout.invoice_id, {"school_id": inline_site.school_id})

    assert answer.status_code == 409
    assert answer.json["error"] == {
        "code": "payment_not_allowed",
        "message": "invoice 1 is paid",
    }


def test_an_unknown_invoice_is_404_without_echoing_its_id(site: Site) -> None:
    invoice_id = new_id("inv")

    answer = _start(site, invoice_id, {"school_id": site.school_id})

    assert answer.status_code == 404
    assert answer.json == {"error": {"code": "not_found", "message": "invoice not found"}}
    assert invoice_id not in answer.get_data(as_text=True)


def test_another_schools_invoice_is_404(site: Site) -> None:
    invoice_id = site.open_invoice()
    other = site.app.register_school("Køreskolen Syd")

    answer = _start(site, invoice_id, {"school_id": other.id})

    assert answer.status_code == 404


def test_an_unknown_school_is_404(site: Site) -> None:
    answer = _start(site, site.open_invoice(), {"school_id": new_id("sch")})

    assert answer.status_code == 404
    assert answer.json["error"]["message"] == "school not found"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "school_id is required"),
        ({"school_id": None}, "school_id is required"),
        ({"school_id": 42}, "school_id must be a non-empty string"),
        ({"school_id": " "}, "school_id must be a non-empty string"),
        ([], "the body must be a JSON object"),
        ({"school_id": "SCHOOL", "return_url": "javascript:alert(1)"}, "return_url must be"),
        ({"school_id": "SCHOOL", "return_url": 7}, "return_url must be a non-empty string"),
    ],
)
def test_a_bad_request_body_is_400(site: Site, body: Any, message: str) -> None:
    if isinstance(body, dict) and body.get("school_id") == "SCHOOL":
        body = {**body, "school_id": site.school_id}

    answer = _start(site, site.open_invoice(), body)

    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_input"
    assert answer.json["error"]["message"].startswith(message)


def test_a_body_that_is_not_json_is_400(site: Site) -> None:
    answer = site.client().post(
        f"/api/invoices/{site.open_invoice()}/payments", data=b"school_id=x"
    )

    assert answer.status_code == 400


def test_a_declined_card_at_the_start_is_402(site: Site) -> None:
    site.gateway.decline_next()

    answer = _start(site, site.open_invoice(), {"school_id": site.school_id})

    assert answer.status_code == 402
    assert answer.json["error"]["code"] == "payment_declined"


def test_a_provider_that_is_down_is_503_with_retry_after(site: Site) -> None:
    site.gateway.fail_next(ProviderUnavailable("fake", "timed out", retry_after=2.4))

    answer = _start(site, site.open_invoice(), {"school_id": site.school_id})

    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "provider_unavailable"
    assert answer.headers["Retry-After"] == "2"


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (
            ProviderRejected("fake", "amount below the minimum", provider_code="amount_too_small"),
            422,
            "provider_rejected",
        ),
        (ProviderUnavailable("fake", "timed out"), 503, "provider_unavailable"),
        (ProviderError("fake", "answered 418"), 502, "provider_error"),
        (
            ConfigurationError("fake refused the credentials", ["PAYMENT_PROVIDER_SECRET"]),
            503,
            "configuration_error",
        ),
    ],
    ids=["rejected", "unavailable", "other", "configuration"],
)
def test_a_provider_failure_at_the_start_answers_its_documented_status_never_500(
    site: Site,
    caplog: pytest.LogCaptureFixture,
    failure: Exception,
    status: int,
    code: str,
) -> None:
    site.gateway.fail_next(failure)

    with caplog.at_level(logging.INFO):
        answer = _start(site, site.open_invoice(), {"school_id": site.school_id})

    assert (answer.status_code, answer.json["error"]["code"]) == (status, code)
    assert "Traceback" not in answer.get_data(as_text=True)
    assert not [r for r in caplog.records if r.exc_info]
    assert "PAYMENT_PROVIDER_SECRET" not in answer.get_data(as_text=True)


def test_a_provider_that_is_down_without_saying_for_how_long_gets_a_default_retry_after(
    site: Site,
) -> None:
    site.gateway.fail_next(ProviderUnavailable("fake", "connection reset"))

    answer = _start(site, site.open_invoice(), {"school_id": site.school_id})

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "10"


def test_a_school_naming_a_gateway_not_configured_here_is_503_configuration_error(
    site: Site,
) -> None:
    school = site.app.register_school(
        "Køreskolen Vest", settings=SchoolSettings(payment_gateway="stripe")
    )
    student = site.app.add_student(school.id, "Bo Berg", email="bo@example.dk")
    line = LineItem(InvoiceService.LESSON, "Køretime", Money.parse("500.00", "DKK"))
    draft = site.app.draft_invoice(school.id, student.id, [line])
    invoice = site.app.issue_invoice(school.id, draft.id)

    answer = _start(site, invoice.id, {"school_id": school.id})

    assert answer.status_code == 503
    assert answer.json["error"] == {
        "code": "configuration_error",
        "message": "this service is not configured for the request",
    }


def test_an_unexpected_error_is_500_internal_error_and_tells_nothing(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoice_id = site.open_invoice()

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError(f"psycopg: relation payments for {invoice_id} is locked")

    monkeypatch.setattr(site.app, "start_invoice_payment", broken)
    answer = _start(site, invoice_id, {"school_id": site.school_id})

    assert answer.status_code == 500
    assert answer.json == {
        "error": {"code": "internal_error", "message": "an internal error occurred"}
    }
    text = answer.get_data(as_text=True)
    for secret in ("Traceback", "RuntimeError", "psycopg", invoice_id):
        assert secret not in text


def test_only_post_is_allowed(site: Site) -> None:
    answer = site.client().get(f"/api/invoices/{site.open_invoice()}/payments")

    assert answer.status_code == 405


def test_the_api_guard_of_the_embedding_app_runs_before_the_api_and_only_there() -> None:
    def guard() -> Response:
        refused = jsonify({"error": {"code": "unauthenticated", "message": "log in"}})
        refused.status_code = 401
        return refused

    site = build_site(api_guard=guard)

    answer = _start(site, site.open_invoice(), {"school_id": site.school_id})

    assert answer.status_code == 401
    assert site.client().get("/healthz").status_code == 200
    assert site.client().post("/webhook/payments/fake").status_code == 400  # not 401
