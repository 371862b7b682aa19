"""Stripe's Idempotency-Key: the first answer is kept and replayed; other parameters are refused.

As Stripe documents it: a key is kept with the endpoint, the parameters and the answer of the
request that first used it, once that request ran (a 200, or a 402 card error). The same key on
the same endpoint with the same parameters gets that answer again, marked Idempotent-Replayed;
with other parameters or on another endpoint it gets a 400 idempotency_error. A request that
never ran (rejected key, malformed body, an injected outage) keeps nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

from justdriving.testing.stripe.api import refusal, replayed
from justdriving.testing.stripe.objects import StripeApiError
from justdriving.testing.wire import ApiReply

KEPT_STATUSES = frozenset({200, 402})


@frozen
class _Kept:
    method: str
    path: str
    params: Mapping[str, Any]
    reply: ApiReply


class IdempotencyKeys:
    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}

    def replay(
        self, key: str, method: str, path: str, params: Mapping[str, Any]
    ) -> ApiReply | None:
        """The answer for a key seen before, or None for a new key."""
        kept = self._kept.get(key)
        if kept is None:
            return None
        if (kept.method, kept.path) != (method, path):
            return _refused(
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{kept.method} {kept.path}' vs '{method} {path}')."
            )
        if kept.params != params:
            return _refused(
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request."
            )
        return replayed(kept.reply)

    def keep(
        self, key: str, method: str, path: str, params: Mapping[str, Any], reply: ApiReply
    ) -> None:
        if reply.status in KEPT_STATUSES:
            self._kept[key] = _Kept(method, path, params, reply)


def _refused(message: str) -> ApiReply:
    return refusal(StripeApiError(400, message, type="idempotency_error"))
