"""The PayPal simulator's error catalogue is PayPal's own, from its OpenAPI documents."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from justdriving.testing.paypal import errors as paypal_errors
from provider_specs import SPEC_DIR

ROOT = Path(__file__).resolve().parents[2]


def _script() -> object:
    spec = importlib.util.spec_from_file_location(
        "catalogue", ROOT / "scripts" / "paypal_error_catalogue.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_catalogue_is_what_the_specs_say() -> None:
    written = json.loads(
        (ROOT / "src/justdriving/testing/paypal/fixtures/errors.json").read_text(encoding="utf-8")
    )
    assert written == _script().catalogue(SPEC_DIR / "paypal")  # type: ignore[attr-defined]


def test_an_error_body_takes_the_status_name_and_the_operations_description() -> None:
    called = paypal_errors.operation("POST", "/v2/checkout/orders/5O190127TN364715T/capture")
    body = paypal_errors.body(422, "INSTRUMENT_DECLINED", called=called)
    assert (body["name"], body["details"][0]["issue"]) == (
        "UNPROCESSABLE_ENTITY",
        "INSTRUMENT_DECLINED",
    )
    assert (
        body["details"][0]["description"]
        == paypal_errors.issues(called, 422)["INSTRUMENT_DECLINED"]
    )
    assert paypal_errors.body(503)["name"] == "SERVICE_UNAVAILABLE"


def test_a_reason_paypal_does_not_document_is_refused() -> None:
    assert paypal_errors.check_reason("capture", "OTHER") == "OTHER"
    with pytest.raises(ValueError, match="card_declined"):
        paypal_errors.check_reason("capture", "card_declined")
    with pytest.raises(ValueError, match="REFUND_FAILED_INSUFFICIENT_FUNDS"):
        paypal_errors.check_reason("refund", "REFUND_FAILED_INSUFFICIENT_FUNDS")
