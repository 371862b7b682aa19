"""Every error answers `{"error": {"code", "message"}}` with a stable code and status."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from justdriving.domain.errors import (
    BookingNotAllowed,
    ConcurrencyConflict,
    ConfigurationError,
    InvalidInput,
    InvalidMoney,
    InvalidSignature,
    InvalidTransition,
    JustDrivingError,
    MalformedWebhook,
    NotFound,
    PaymentDeclined,
    PaymentNotAllowed,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.entrypoints.web.errors import register_json_errors

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
        ConfigurationError("bad settings", [f"PAYMENT_PROVIDER_SECRET for {ID}"]),
        ProviderRejected("fake", f"no payment {ID}"),
        BookingNotAllowed("not here"),
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
