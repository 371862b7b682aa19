"""PayPal's order answers read defensively: a field of the wrong JSON type is read as absent,
never a bare KeyError, AttributeError or TypeError escaping the adapter."""

from __future__ import annotations

from typing import Any

import pytest

from justdriving.adapters.payments.paypal import orders
from justdriving.domain.errors import ProviderUnavailable

ODD = [None, "x", 7, {"0": {}}, [], ["x"], [None]]


@pytest.mark.parametrize("units", ODD)
def test_a_purchase_units_field_of_the_wrong_shape_has_no_first_unit(units: Any) -> None:
    assert orders.first_unit({"purchase_units": units}) == {}


@pytest.mark.parametrize("made", [None, "x", [], [{"captures": []}], {"captures": {"id": "c"}}])
def test_payments_of_the_wrong_shape_are_none(made: Any) -> None:
    order = {"purchase_units": [{"payments": made}]}

    assert orders.payments(order, "captures") == []


def test_a_capture_answer_without_a_readable_capture_is_the_providers_fault() -> None:
    answer = {"purchase_units": [{"payments": ["not", "an", "object"]}]}

    with pytest.raises(ProviderUnavailable):
        orders.last_capture(answer, "paypal")


def test_captures_are_read_across_units_in_order() -> None:
    order = {
        "purchase_units": [
            {"payments": {"captures": [{"id": "a"}, "junk"]}},
            {"payments": {"captures": [{"id": "b"}]}},
        ]
    }

    assert [c["id"] for c in orders.payments(order, "captures")] == ["a", "b"]
