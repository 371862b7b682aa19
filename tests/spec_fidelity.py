"""The test session's check of every simulator exchange against the provider's spec.

tests/spec_session.py listens to `justdriving.testing.exchanges` for the whole session; at its end
`Fidelity.report()` validates what was heard (tests/provider_specs.py), prints the figures per
provider, and the session fails on any invalid exchange that the allow-list (tests/specs/
allowed.py, each entry citing the spec's own contradiction) does not cover.

JUSTDRIVING_SPEC_FIGURES=path writes the figures as JSON (docs/provider-fidelity.md quotes them);
JUSTDRIVING_SPEC_EXCHANGES=path writes every recorded exchange as JSON lines, so two runs (the
simulators' and `make sandbox`'s against the real test modes) can be compared.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from attrs import define, field

from justdriving.testing.exchanges import Exchange
from provider_specs import SPEC_DIR, ProviderSpec
from specs.allowed import ALLOWED, OUTSIDE, Allowed
from specs.webhooks import (
    gatewayapi_event,
    mailgun_event,
    mobilepay_event,
    paypal_event,
    stripe_event,
)

# The providers whose simulators are held to their spec: any invalid exchange fails the session.
# The others' problems are counted and printed (docs/provider-fidelity.md) until they are fixed.
HELD = frozenset(
    {
        "stripe",
        "twilio",
        "sendgrid",
        "mailgun",
        "paypal",
        "xero",
        "gatewayapi",
        "quickbooks",
        "mobilepay",
    }
)


def providers() -> dict[str, ProviderSpec]:
    """Each provider's spec; one whose documents are not written yet is left out."""
    every = {
        "stripe": _spec("stripe", ["spec3.json"], stripe_event),
        "twilio": _spec("twilio", ["twilio_api_v2010.json"]),
        "sendgrid": _spec("sendgrid", ["tsg_mail_v3.json"]),
        "mailgun": _spec("mailgun", ["openapi.json"], mailgun_event),
        "paypal": _spec(
            "paypal",
            [
                "checkout_orders_v2.json",
                "payments_payment_v2.json",
                "notifications_webhooks_v1.json",
            ],
            paypal_event,
        ),
        "xero": _spec("xero", ["xero_accounting.json", "xero-identity.json"], any_case=True),
        "gatewayapi": _spec("gatewayapi", ["gatewayapi_sms.json"], gatewayapi_event),
        "quickbooks": _spec("quickbooks", ["quickbooks_accounting.json"]),
        "mobilepay": _spec("mobilepay", ["epayment.json", "recurring.json"], mobilepay_event),
    }
    return {name: spec for name, spec in every.items() if spec is not None}


def _spec(
    provider: str, files: list[str], webhook: Any = None, *, any_case: bool = False
) -> ProviderSpec | None:
    if not all((SPEC_DIR / provider / name).exists() for name in files):
        return None
    return ProviderSpec(provider, files, webhook, any_case=any_case)


@define
class Figures:
    requests: int = 0
    requests_invalid: int = 0
    responses: int = 0
    responses_invalid: int = 0
    webhooks: int = 0
    webhooks_invalid: int = 0
    webhooks_unchecked: int = 0
    outside: int = 0  # exchanges of operations no document describes (specs.allowed.OUTSIDE)
    unchecked: int = 0  # exchanges of a provider whose spec is not written yet
    off_spec: int = 0  # problems in parts a test marked `off_spec` makes on purpose
    allowed: Counter[str] = field(factory=Counter)


@define
class Fidelity:
    """The exchanges heard during the session, each with the test that made it."""

    heard: list[tuple[str, Exchange]] = field(factory=list)
    current_test: str = ""
    # Tests marked `off_spec`: the parts of their exchanges they make invalid on purpose.
    off_spec: dict[str, tuple[str, ...]] = field(factory=dict)
    _lock: threading.Lock = field(factory=threading.Lock)

    def hear(self, exchange: Exchange) -> None:
        with self._lock:
            self.heard.append((self.current_test, exchange))

    def report(self) -> tuple[dict[str, Figures], list[str]]:
        """Figures per provider and the lines describing each invalid exchange."""
        specs = providers()
        figures: dict[str, Figures] = {}
        failures: list[str] = []
        for test, exchange in self.heard:
            spec = specs.get(exchange.provider)
            counts = figures.setdefault(exchange.provider, Figures())
            if spec is None:
                counts.unchecked += 1
                continue
            operation, problems = spec.check(exchange)
            if any(entry.covers(p) for p in problems for entry in OUTSIDE):
                counts.outside += 1
                continue
            kept = []
            for problem in problems:
                entry = _allowed(problem)
                if problem.part in self.off_spec.get(test, ()):
                    counts.off_spec += 1
                elif entry is None:
                    kept.append(problem)
                else:
                    counts.allowed[entry.name] += 1
            parts = {problem.part for problem in kept}
            if exchange.kind == "webhook":
                counts.webhooks += 1
                unchecked = any(p.message == "no event schema in the spec" for p in kept)
                counts.webhooks_unchecked += unchecked
                kept = [p for p in kept if p.message != "no event schema in the spec"]
                counts.webhooks_invalid += bool(kept)
            else:
                counts.requests += 1
                counts.requests_invalid += "request" in parts
                if exchange.status is not None:
                    counts.responses += 1
                    counts.responses_invalid += "response" in parts
            failures += [
                f"{test}: {exchange.provider} {operation} {exchange.status or ''} "
                f"{problem.part}: {problem.message}"
                for problem in kept
            ]
        return figures, failures


def unused_entries(figures: dict[str, Figures]) -> list[str]:
    """Entries of providers that were exercised but that no problem needed: to retire."""
    return [
        entry.name
        for entry in ALLOWED
        if entry.provider in figures
        and figures[entry.provider].requests
        and not figures[entry.provider].allowed[entry.name]
    ]


def held_failures(failures: list[str]) -> list[str]:
    """The failures that fail the session: those of the providers in HELD."""
    return [line for line in failures if line.split(": ", 1)[1].split(" ", 1)[0] in HELD]


def _allowed(problem: Any) -> Allowed | None:
    return next((entry for entry in ALLOWED if entry.covers(problem)), None)


def summary_lines(figures: dict[str, Figures], failures: list[str]) -> list[str]:
    lines = [
        "provider      requests/invalid  responses/invalid  webhooks/invalid/unchecked"
        "  allowed  off-spec on purpose  held"
    ]
    for provider, counts in sorted(figures.items()):
        lines.append(
            f"{provider:<13} {counts.requests:>8}/{counts.requests_invalid:<8} "
            f"{counts.responses:>9}/{counts.responses_invalid:<8} "
            f"{counts.webhooks:>8}/{counts.webhooks_invalid}/{counts.webhooks_unchecked:<14}"
            f"  {sum(counts.allowed.values()):>7}  {counts.off_spec:>19}  "
            + ("yes" if provider in HELD else f"not yet ({counts.unchecked} without a spec)")
            + (f"; {counts.outside} outside the documents" if counts.outside else "")
        )
    unused = unused_entries(figures)
    if unused:
        lines.append(f"allow-list entries no exchange used: {', '.join(unused)}")
    distinct = sorted(set(failures))
    if distinct:
        lines.append(f"{len(failures)} problems ({len(distinct)} distinct), first ones:")
        lines += [f"  {line}" for line in distinct[:60]]
    return lines


def write_figures(figures: dict[str, Figures], failures: list[str]) -> None:
    target = os.environ.get("JUSTDRIVING_SPEC_FIGURES")
    if not target:
        return
    data = {
        provider: {
            "requests": counts.requests,
            "requests_invalid": counts.requests_invalid,
            "responses": counts.responses,
            "responses_invalid": counts.responses_invalid,
            "webhooks": counts.webhooks,
            "webhooks_invalid": counts.webhooks_invalid,
            "webhooks_unchecked": counts.webhooks_unchecked,
            "off_spec": counts.off_spec,
            "unchecked": counts.unchecked,
            "outside": counts.outside,
            "held": provider in HELD,
            "allowed": dict(counts.allowed),
        }
        for provider, counts in sorted(figures.items())
    }
    data["problems"] = sorted(set(failures))  # type: ignore[assignment]
    Path(target).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def write_exchanges(heard: list[tuple[str, Exchange]]) -> None:
    target = os.environ.get("JUSTDRIVING_SPEC_EXCHANGES")
    if not target:
        return
    with Path(target).open("w", encoding="utf-8") as out:
        for test, exchange in heard:
            line = {
                "test": test,
                "provider": exchange.provider,
                "kind": exchange.kind,
                "method": exchange.method,
                "path": exchange.path,
                "query": exchange.query,
                "request": exchange.request_body.decode("utf-8", "replace"),
                "status": exchange.status,
                "response": exchange.response_body.decode("utf-8", "replace"),
            }
            out.write(json.dumps(line) + "\n")
