"""Every error answers `{"error": {"code", "message"}}` with a stable code and status."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from flask import Flask

from justdriving.domain.errors import (
    BookingNotAllowed,
    ConcurrencyConflict,
    ConfigurationError,
    CurrencyMismatch,
    DuplicateRecord,
    InvalidInput,
    InvalidMoney,
    InvalidSignature,
    InvalidTransition,
    JustDrivingError,
    MalformedWebhook,
    NotFound,
    PackageExhausted,
    PaymentDeclined,
    PaymentNotAllowed,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    RecipientSuppressed,
    RefundExceedsCaptured,
    TeacherDoubleBooked,
    WebhookRejected,
)
from justdriving.entrypoints.web.errors import STATUS_FOR, register_json_errors

ID = "pay_0123456789abcdef0123456789abcdef"


def _answer(error: Exception) -> tuple[int, dict[str, dict[str, str]], str]:
    app = Flask(__name__)
    register_json_errors(app)

    @app.get("/boom")
    def boom() -> str:
        raise error

    response = app.test_client().get("/boom")
    return response.status_code, response.json, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidInput("bad"), 400, "invalid_input"),
        (InvalidMoney("bad amount"), 400, "invalid_money"),
        (MalformedWebhook("not JSON"), 400, "malformed_webhook"),
        (InvalidSignature("no match"), 400, "invalid_signature"),
        (NotFound("invoice", ID), 404, "not_found"),
        (InvalidTransition("payment", "succeeded", "fail"), 409, "invalid_transition"),
        (PaymentNotAllowed("manual payments only"), 409, "payment_not_allowed"),
        (ConcurrencyConflict("changed"), 409, "concurrency_conflict"),
        (
            PaymentDeclined("fake", "declined", provider_code="card_declined"),
            402,
            "payment_declined",
        ),
        (ProviderUnavailable("fake", "timeout"), 503, "provider_unavailable"),
        (CurrencyMismatch("DKK and EUR"), 400, "currency_mismatch"),
        (WebhookRejected("refused"), 400, "webhook_rejected"),
        (DuplicateRecord("twice"), 409, "duplicate_record"),
        (TeacherDoubleBooked("busy"), 409, "teacher_double_booked"),
        (BookingNotAllowed("not here"), 409, "booking_not_allowed"),
        (PackageExhausted("used up"), 409, "package_exhausted"),
        (RefundExceedsCaptured("too much"), 409, "refund_exceeds_captured"),
        (
            ProviderRejected("stripe", "amount too small", provider_code="amount_too_small"),
            422,
            "provider_rejected",
        ),
        (
            RecipientSuppressed("twilio", "opted out", provider_code="21610"),
            422,
            "recipient_suppressed",
        ),
        (ProviderError("stripe", "answered 418"), 502, "provider_error"),
    ],
)
def test_justdriving_errors_map_to_their_status_and_code(
    error: JustDrivingError, status: int, code: str
) -> None:
    answered, body, _ = _answer(error)

    assert (answered, body["error"]["code"]) == (status, code)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError(f"boom at {ID}"),
        KeyError(ID),
        JustDrivingError(f"a justdriving error of no family, at {ID}"),
    ],
)
def test_anything_else_is_500_internal_error_logged_and_untold(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, "justdriving.web"):
        status, body, text = _answer(error)

    assert status == 500
    assert body == {"error": {"code": "internal_error", "message": "an internal error occurred"}}
    assert "Traceback" not in text
    assert ID not in text
    assert type(error).__name__ in caplog.text  # the server keeps the detail


def test_an_internal_id_in_a_client_error_message_is_never_echoed() -> None:
    _, body, text = _answer(PaymentNotAllowed(f"invoice {ID} is draft"))

    assert ID not in text
    assert body["error"]["message"] == "invoice … is draft"


def test_http_errors_are_json_too() -> None:
    app = Flask(__name__)
    register_json_errors(app)

    answer = app.test_client().get("/nowhere")

    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"


def _families(root: type[JustDrivingError] = JustDrivingError) -> list[type[JustDrivingError]]:
    found: list[type[JustDrivingError]] = []
    for kind in root.__subclasses__():
        found += [kind, *_families(kind)]
    return found


def test_every_justdriving_error_family_has_a_status() -> None:
    from justdriving.adapters.accounting.xero import api as xero_http  # noqa: F401 - defines one more

    unmapped = [
        kind.__name__
        for kind in _families()
        if not any(issubclass(kind, mapped) for mapped, _ in STATUS_FOR)
    ]

    assert unmapped == []
    assert "RefusedElements" in {kind.__name__ for kind in _families()}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ProviderRejected("stripe", f"no such payment_intent {ID}"), 422),
        (ConfigurationError("bad settings", [f"PAYMENT_PROVIDER_SECRET for {ID}"]), 503),
    ],
)
def test_a_provider_refusal_or_a_configuration_error_is_logged_on_one_line_without_a_traceback(
    error: JustDrivingError, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "justdriving.web"):
        answered, _, text = _answer(error)

    assert answered == status
    assert "Traceback" not in text
    assert ID not in text
    [line] = [r for r in caplog.records if r.name == "justdriving.web"]
    assert line.exc_info is None
    assert error.code in line.getMessage()


def test_a_configuration_error_tells_the_client_nothing_of_the_settings() -> None:
    _, body, text = _answer(ConfigurationError("stripe refused the credentials", ["PAYMENT_X"]))

    assert body["error"] == {
        "code": "configuration_error",
        "message": "this service is not configured for the request",
    }
    assert "PAYMENT_X" not in text


@pytest.mark.parametrize("retry_after", [None, 0.2, 2.4, 120.0])
def test_a_provider_that_is_down_always_says_when_to_come_back(
    retry_after: float | None,
) -> None:
    app = Flask(__name__)
    register_json_errors(app)

    @app.get("/down")
    def down() -> str:
        raise ProviderUnavailable("stripe", "timed out", retry_after=retry_after)

    answer = app.test_client().get("/down")

    assert answer.status_code == 503
    expected = 10 if retry_after is None else max(1, round(retry_after))
    assert answer.headers["Retry-After"] == str(expected)


def _readme_error_table() -> dict[str, tuple[int, str]]:
    """The README's table of error families: `| `Family` | status | `code` | ...`."""
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Errors on the web", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (\d{3}) \| `(\w+)` \|", section, re.MULTILINE)
    return {family: (int(status), code) for family, status, code in rows}


def test_the_readme_documents_every_family_with_its_status_and_code() -> None:
    documented = _readme_error_table()

    for kind, status in STATUS_FOR:
        assert documented.get(kind.__name__) == (status, kind.code), kind.__name__
