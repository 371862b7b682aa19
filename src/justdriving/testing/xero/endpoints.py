"""The Xero simulator's HTTP side: requests and answers, the identity token endpoint, the
Accounting API endpoints our adapter calls, and what the server calls with each request. The
simulator (simulator.py) owns the state, the lock, the limits and the idempotency store.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from attrs import frozen

from justdriving.testing import wire
from justdriving.testing.local_server import Serve
from justdriving.testing.wire import ApiReply
from justdriving.testing.xero import views

if TYPE_CHECKING:
    from justdriving.testing.xero.simulator import XeroSimulator

TOKEN_PATH = "/connect/token"  # noqa: S105 - a URL path
CONNECTIONS_PATH = "/connections"
API_PATH = "/api.xro/2.0"


@frozen
class RecordedRequest(wire.RecordedRequest):
    at: datetime  # the simulator's clock when it arrived

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


def answer(status: int, payload: Any, **headers: str) -> ApiReply:
    """JSON as Xero writes it: Decimals as exact numbers."""
    return ApiReply.json_text(status, _dumps(payload), **headers)


def _dumps(payload: Any) -> str:
    return _NUMBER.sub(r"\1", json.dumps(payload, default=_number))


_NUMBER = re.compile(r'"\\u0000(-?\d+(?:\.\d+)?)"')


def _number(value: object) -> str:
    """Decimals go out as exact JSON numbers (marked here, unquoted by `_NUMBER`)."""
    if isinstance(value, Decimal) and value.is_finite():
        return f"\x00{value:f}"
    raise TypeError(type(value).__name__)


def problem(status: int, title: str, detail: str) -> ApiReply:
    return answer(status, {"Type": None, "Title": title, "Status": status, "Detail": detail})


def exception(kind: str, message: str, number: int = 10, **extra: Any) -> ApiReply:
    return answer(400, {"ErrorNumber": number, "Type": kind, "Message": message, **extra})


# Identity.


def token(sim: XeroSimulator, request: RecordedRequest) -> ApiReply:
    given = request.headers.get("authorization", "")
    try:
        credentials = base64.b64decode(given.removeprefix("Basic "), validate=True)
    except ValueError:
        credentials = b""
    expected = f"{sim.client_id}:{sim.client_secret}".encode()
    if not given.startswith("Basic ") or not secrets.compare_digest(credentials, expected):
        return answer(400, {"error": "invalid_client"})
    form = {k: v[-1] for k, v in parse_qs(request.body.decode(errors="replace")).items()}
    if form.get("grant_type") == "refresh_token":
        issued = sim.rotate(form.get("refresh_token", ""))
    elif form.get("grant_type") == "authorization_code":
        issued = sim.redeem(form.get("code", ""), form.get("redirect_uri", ""))
    else:
        return answer(400, {"error": "unsupported_grant_type"})
    if issued is None:
        return answer(400, {"error": "invalid_grant"})
    return answer(
        200,
        {
            "access_token": issued.access_token,
            "expires_in": sim.access_ttl,
            "token_type": "Bearer",
            "refresh_token": issued.refresh_token,
            "scope": "offline_access accounting.transactions accounting.contacts",
        },
    )


def connections(sim: XeroSimulator, request: RecordedRequest) -> ApiReply:
    """GET /connections: the tenants a live access token reaches (no xero-tenant-id needed)."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    if not sim.token_works(token):
        return problem(401, "Unauthorized", "AuthenticationUnsuccessful")
    connected, reach = sim.clock().isoformat(), sim.reach(token)
    return answer(
        200,
        [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"connection:{tenant_id}")),
                "authEventId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"auth:{token}")),
                "tenantId": tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": name,
                "createdDateUtc": connected,
                "updatedDateUtc": connected,
            }
            for tenant_id, name in sim.connections.items()
            if tenant_id in reach
        ],
    )


# The Accounting API.


def route(sim: XeroSimulator, request: RecordedRequest) -> ApiReply:
    path = request.path.removeprefix(API_PATH)
    for methods, pattern, action in _ROUTES:
        matched = pattern.fullmatch(path)
        if matched and request.method in methods:
            return action(sim, request, *matched.groups())
    return problem(404, "NotFound", "The resource you're looking for cannot be found")


def _write(
    sim: XeroSimulator,
    request: RecordedRequest,
    resource: str,
    save: Callable[[Mapping[str, Any]], dict[str, Any]],
) -> ApiReply:
    """One batch: every element saved or refused on its own (summarizeErrors=false), or all
    or nothing, with a 400 listing the elements when one is refused (Xero's default)."""
    try:
        payload = request.json()
    except ValueError:
        return exception("PostDataInvalidException", "Invalid JSON data", number=14)
    items = payload.get(resource, [payload]) if isinstance(payload, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return exception("PostDataInvalidException", f"Expected {resource}", number=14)
    sim.note_batch(len(items))
    summarize = request.params().get("summarizeErrors", "true").lower() != "false"
    before = copy.deepcopy(sim.books) if summarize else None
    elements = [save(item) for item in items]
    if before is not None and any(e.get("HasErrors") for e in elements):
        sim.books = before
        return exception(
            "ValidationException", "A validation exception occurred", Elements=elements
        )
    return answer(200, views.envelope(resource, elements, sim.clock()))


def contacts(sim: XeroSimulator, request: RecordedRequest) -> ApiReply:
    return _write(sim, request, "Contacts", lambda e: sim.books.save_contact(e))


def invoices(sim: XeroSimulator, request: RecordedRequest) -> ApiReply:
    return _write(sim, request, "Invoices", lambda e: sim.books.save_document("ACCREC", e))


def credit_notes(sim: XeroSimulator, request: RecordedRequest) -> ApiReply:
    return _write(sim, request, "CreditNotes", lambda e: sim.books.save_document("ACCRECCREDIT", e))


def payments(sim: XeroSimulator, request: RecordedRequest) -> ApiReply:
    today = sim.clock().date()
    return _write(sim, request, "Payments", lambda e: sim.books.save_payment(e, today))


def allocations(sim: XeroSimulator, request: RecordedRequest, note_id: str) -> ApiReply:
    note = sim.books.credit_notes.get(note_id.lower())
    if note is None:
        return problem(404, "NotFound", "The resource you're looking for cannot be found")
    today = sim.clock().date()
    return _write(sim, request, "Allocations", lambda e: sim.books.allocate(note, e, today))


def list_invoices(sim: XeroSimulator, request: RecordedRequest) -> ApiReply:
    params = request.params()
    wanted, numbers = params.get("IDs"), params.get("InvoiceNumbers")
    chosen = list(sim.books.invoices.values())
    if wanted is not None:
        ids = {i.strip().lower() for i in wanted.split(",")}
        chosen = [i for i in chosen if i.document_id in ids]
    if numbers is not None:
        named = {n.strip() for n in numbers.split(",")}
        chosen = [i for i in chosen if i.number in named]
    found = [views.document(i) for i in chosen]
    return answer(200, views.envelope("Invoices", found, sim.clock()))


def one(kind: str) -> Callable[[XeroSimulator, RecordedRequest, str], ApiReply]:
    def get(sim: XeroSimulator, request: RecordedRequest, item_id: str) -> ApiReply:
        books = sim.books
        if kind == "Contacts" and item_id.lower() in books.contacts:
            view = views.contact(books.contacts[item_id.lower()])
        elif kind == "Invoices" and item_id.lower() in books.invoices:
            view = views.document(books.invoices[item_id.lower()])
        elif kind == "CreditNotes" and item_id.lower() in books.credit_notes:
            view = views.document(books.credit_notes[item_id.lower()])
        else:
            return problem(404, "NotFound", "The resource you're looking for cannot be found")
        return answer(200, views.envelope(kind, [view], sim.clock()))

    return get


_ID = "([0-9a-fA-F-]{36})"
_WRITES = ("POST", "PUT")
_ROUTES: list[tuple[tuple[str, ...], re.Pattern[str], Callable[..., ApiReply]]] = [
    (_WRITES, re.compile("/Contacts"), contacts),
    (_WRITES, re.compile("/Invoices"), invoices),
    (_WRITES, re.compile("/Payments"), payments),
    (_WRITES, re.compile("/CreditNotes"), credit_notes),
    (("PUT",), re.compile(f"/CreditNotes/{_ID}/Allocations"), allocations),
    (("GET",), re.compile("/Invoices"), list_invoices),
    (("GET",), re.compile(f"/Invoices/{_ID}"), one("Invoices")),
    (("GET",), re.compile(f"/Contacts/{_ID}"), one("Contacts")),
    (("GET",), re.compile(f"/CreditNotes/{_ID}"), one("CreditNotes")),
]


def serve(simulator: XeroSimulator) -> Serve:
    """What the simulator's server calls with each request."""

    def answer(
        method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply:
        at = simulator.clock()  # when it arrived, on the simulator's clock
        return simulator.handle(RecordedRequest(method, path, query, headers, body, at))

    return answer


def pause(seconds: float) -> None:
    """Real time the simulator takes over a call (so that calls overlap), outside its lock."""
    if seconds > 0:
        time.sleep(seconds)
