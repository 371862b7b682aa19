"""A token answer becomes a stored grant even when its lifetime is unreadable: the rotated
refresh token it carries is the only one that still works, so it must be kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from justdriving.adapters.accounting.oauth.app import grant_from
from justdriving.domain.errors import ProviderUnavailable

NOW = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("expires_in", [None, "soon", True, 0, -5])
def test_an_unreadable_lifetime_keeps_the_rotated_refresh_token_and_counts_as_spent(
    expires_in: Any,
) -> None:
    answer = {"access_token": "at_new", "refresh_token": "rt_new", "expires_in": expires_in}

    grant = grant_from(answer, "xero", "org_1", NOW)

    assert (grant.refresh_token, grant.access_token) == ("rt_new", "at_new")
    assert grant.expires_at == NOW  # renewed on its next use


def test_a_readable_lifetime_is_kept() -> None:
    answer = {"access_token": "a", "refresh_token": "r", "expires_in": 1800}

    assert (grant_from(answer, "xero", "org_1", NOW).expires_at - NOW).total_seconds() == 1800


def test_an_answer_without_a_refresh_token_is_refused_as_possibly_done() -> None:
    with pytest.raises(ProviderUnavailable) as raised:
        grant_from({"access_token": "a", "expires_in": 60}, "xero", "org_1", NOW)

    assert raised.value.possibly_done
