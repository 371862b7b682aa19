"""What a saved method may show: a card (brand, last 4, expiry) or a wallet agreement (its brand
only), and which refusals of a charge to it are worth trying again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from justdriving.domain.charges import decline_is_retryable
from justdriving.domain.errors import InvalidInput
from justdriving.domain.saved_methods import SavedMethod

MARCH = datetime(2025, 3, 14, tzinfo=UTC)


def test_a_card_shows_its_last_4_and_expires_after_its_month() -> None:
    card = SavedMethod("pm_1", "visa", "4242", 3, 2025)
    assert card.is_card
    assert not card.expired_at(MARCH)
    assert card.expired_at(datetime(2025, 4, 1, tzinfo=UTC))


def test_an_agreement_shows_its_brand_only_and_never_expires_by_date() -> None:
    agreement = SavedMethod("agr_1", "mobilepay", None, None, None)
    assert not agreement.is_card
    assert not agreement.expired_at(datetime(2099, 1, 1, tzinfo=UTC))


@given(
    last4=st.one_of(st.none(), st.just("4242")),
    month=st.one_of(st.none(), st.just(12)),
    year=st.one_of(st.none(), st.just(2030)),
)
def test_a_card_is_all_of_last_4_month_and_year_or_none_of_them(
    last4: str | None, month: int | None, year: int | None
) -> None:
    given_parts = [part is not None for part in (last4, month, year)]
    if all(given_parts) or not any(given_parts):
        SavedMethod("pm_1", "visa", last4, month, year)
    else:
        with pytest.raises(InvalidInput):
            SavedMethod("pm_1", "visa", last4, month, year)


@pytest.mark.parametrize(
    ("reason", "retryable"),
    [
        ("user_action_required", True),  # e.g. insufficient funds: the student fixes it
        ("technical_error", True),  # inside Vipps MobilePay
        ("non_technical_error", False),  # e.g. the student deleted their profile
        ("charge_amount_too_high", False),  # above the maximum the student chose
    ],
)
def test_mobilepay_failure_reasons_are_retried_only_where_a_retry_can_pay(
    reason: str, retryable: bool
) -> None:
    assert decline_is_retryable(reason) is retryable
