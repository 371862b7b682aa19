"""The ops page: a read-only view of money (invoices, payments, balances, disputes), the
inbox, outbox, messages and accounting runs, with one action, retrying a dead outbox row.

- `GET  /ops`: the page; `?student=` (a name or an id) narrows the money to one student,
  `?lang=da|en` switches the language (kept in a cookie; default: the school's language).
- `GET  /ops/invoices/<invoice_id>`, `GET /ops/payments/<payment_id>`: one invoice (its
  lines, payments, credit notes, refunds and the student's balance) or one payment.
- `POST /ops/outbox/<outbox_id>/retry`: revive a dead row (and requeue its message), then
  303 back to the page. Needs the form's CSRF token: a random nonce in a cookie (`Secure`
  when the request came over HTTPS, behind a proxy too with TRUSTED_PROXY_HOPS), signed into
  a hidden field with a key derived from OPS_TOKEN (so any worker process accepts it);
  anything else is a 403.

Off unless OPS_TOKEN is set: every `/ops` route is then a 404. With it, a request needs
`Authorization: Bearer <token>` or HTTP basic auth whose password is the token (any user
name), compared in constant time; otherwise a 401 asking for basic auth. An address that
presents a wrong token 10 times in 15 minutes is answered 429 until the window passes
(`guesses.WrongGuesses`). The page is
server-rendered (autoescaped Jinja2), with inline CSS and no external assets; recipients are
masked, and every stored error text passes the log redaction (`app.redact`) in `OpsView`.
Times show in each school's timezone; names show with their ids on hover.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import Forbidden, NotFound

from justdriving.domain.errors import NotFound as DomainNotFound
from justdriving.entrypoints.web.guesses import WrongGuesses, too_many_guesses
from justdriving.entrypoints.web.ops_texts import LANGUAGES, Texts
from justdriving.entrypoints.web.wiring import Once, Wiring, deferred

if TYPE_CHECKING:
    from justdriving.application import Application
    from justdriving.domain.services.views.ops import SchoolRow

NONCE_COOKIE: Final = "justdriving_ops_nonce"
LANGUAGE_COOKIE: Final = "justdriving_ops_lang"
TOKEN_MAX_AGE: Final = 8 * 3600
REALM: Final = "justdriving ops"
T = TypeVar("T")
_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class OpsCsrfRejected(Forbidden):
    error_code = "csrf_rejected"
    description = "the form's CSRF token is missing or wrong: reload the ops page"


def _pages(app: Application, token: str | None) -> _OpsPages:
    """The ops pages over the application alone (its clock paces wrong guesses)."""
    return _OpsPages(app, token, WrongGuesses(app.clock))


def ops_blueprint(wiring: Wiring) -> Blueprint:
    """The `/ops` routes; `justdriving_blueprint` mounts them (they answer 404 while
    OPS_TOKEN is unset). The pages are made on the first request that passes that."""
    token = wiring.settings.ops_token or None
    pages = Once(lambda: _pages(wiring.application(), token))

    def authenticate() -> ResponseReturnValue | None:
        if token is None:
            raise NotFound()
        return pages().authenticate()

    blueprint = Blueprint("ops", __name__, url_prefix="/ops", template_folder="templates")
    blueprint.before_request(authenticate)
    blueprint.after_request(_secure)
    blueprint.add_url_rule("", "page", deferred(pages, _OpsPages.page), methods=["GET"])
    blueprint.add_url_rule(
        "/invoices/<invoice_id>", "invoice", deferred(pages, _OpsPages.invoice), methods=["GET"]
    )
    blueprint.add_url_rule(
        "/payments/<payment_id>", "payment", deferred(pages, _OpsPages.payment), methods=["GET"]
    )
    blueprint.add_url_rule(
        "/outbox/<outbox_id>/retry", "retry", deferred(pages, _OpsPages.retry), methods=["POST"]
    )
    return blueprint


class _OpsPages:
    def __init__(self, app: Application, token: str | None, guesses: WrongGuesses) -> None:
        from justdriving.domain.services.views.ops import OpsView  # with the use cases

        self._app, self._guesses = app, guesses
        self._view = OpsView(app.uow, app.clock, redact=app.redact)
        self._token = token.encode() if token else None
        # One key for every worker process, derived from the configuration: a form served
        # by one process is accepted by any other (and after a restart); changing OPS_TOKEN
        # invalidates forms left open.
        self._signer = URLSafeTimedSerializer(csrf_key(self._token or b""), salt="ops-csrf")

    def authenticate(self) -> ResponseReturnValue | None:
        if self._token is None:
            raise NotFound()
        address = request.remote_addr or "-"
        wait = self._guesses.wait(address)
        if wait:
            return too_many_guesses(wait)
        if self._presented(request.headers.get("Authorization", "")):
            self._guesses.succeeded(address)
            return None
        if request.headers.get("Authorization"):  # a browser's first, bare request is no guess
            self._guesses.failed(address)
        response = make_response("authentication required\n", 401)
        response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
        response.mimetype = "text/plain"
        return response

    def _presented(self, header: str) -> bool:
        assert self._token is not None
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            return hmac.compare_digest(value.encode(), self._token)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return False
            _, colon, password = decoded.partition(b":")
            return bool(colon) and hmac.compare_digest(password, self._token)
        return False

    def page(self) -> ResponseReturnValue:
        nonce = request.cookies.get(NONCE_COOKIE) or secrets.token_urlsafe(24)
        student = request.args.get("student", "").strip()[:100] or None
        ops = self._view.snapshot(student)
        texts = self._texts(ops.schools)
        html = render_template(
            "ops/justdriving_ops.html",
            ops=ops,
            money=ops.money,
            search=student or "",
            csrf_token=self._signer.dumps(nonce),
            retried=request.args.get("retried"),
            **self._helpers(texts, ops.schools),
        )
        response = self._answer(html, texts)
        response.set_cookie(
            NONCE_COOKIE,
            nonce,
            httponly=True,
            samesite="Strict",
            secure=request.is_secure,
            path=url_for(".page"),
        )
        return response

    def invoice(self, invoice_id: str) -> ResponseReturnValue:
        detail = self._found(lambda: self._view.money.invoice(invoice_id))
        schools = self._view.snapshot_schools()
        texts = self._texts(schools)
        html = render_template("ops/invoice.html", detail=detail, **self._helpers(texts, schools))
        return self._answer(html, texts)

    def payment(self, payment_id: str) -> ResponseReturnValue:
        detail = self._found(lambda: self._view.money.payment(payment_id))
        schools = self._view.snapshot_schools()
        texts = self._texts(schools)
        html = render_template("ops/payment.html", detail=detail, **self._helpers(texts, schools))
        return self._answer(html, texts)

    @staticmethod
    def _found(read: Callable[[], T]) -> T:
        try:
            return read()
        except DomainNotFound:
            raise NotFound() from None

    @staticmethod
    def _texts(schools: Sequence[SchoolRow]) -> Texts:
        """?lang= (then remembered), else the cookie, else the (first) school's language."""
        chosen = request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
        if chosen in LANGUAGES:
            return Texts(chosen)
        return Texts(schools[0].language if schools else LANGUAGES[0])

    @staticmethod
    def _helpers(texts: Texts, schools: Sequence[SchoolRow]) -> dict[str, Any]:
        zones = {s.id: s.timezone for s in schools}
        shared = {s.timezone for s in schools}
        single = shared.pop() if len(shared) == 1 else "UTC"

        def when(moment: datetime | None, timezone: str | None = None) -> str:
            return texts.when(moment, timezone or single)

        def school_when(moment: datetime | None, school_id: str) -> str:
            return texts.when(moment, zones.get(school_id, "UTC"))

        return {
            "t": texts.t,
            "lang": texts.language,
            "languages": LANGUAGES,
            "when": when,
            "school_when": school_when,
            "utc": texts.utc,
            "money_text": texts.money,
            "zone": single if single != "UTC" or not schools else texts.t("each school's own"),
        }

    @staticmethod
    def _answer(html: str, texts: Texts) -> Response:
        response = make_response(html)
        if request.args.get("lang") in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE,
                texts.language,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure,
                path=url_for(".page"),
                max_age=365 * 24 * 3600,
            )
        return response

    def retry(self, outbox_id: str) -> ResponseReturnValue:
        self._check_csrf()
        self._app.retry_outbox_message(outbox_id)
        return redirect(url_for(".page", retried=outbox_id), code=303)

    def _check_csrf(self) -> None:
        cookie = request.cookies.get(NONCE_COOKIE, "")
        try:
            nonce = self._signer.loads(request.form.get("csrf_token", ""), max_age=TOKEN_MAX_AGE)
        except BadData:
            raise OpsCsrfRejected() from None
        if not cookie or not isinstance(nonce, str) or not hmac.compare_digest(nonce, cookie):
            raise OpsCsrfRejected()


def csrf_key(token: bytes) -> bytes:
    """The form tokens' signing key, derived from OPS_TOKEN (HMAC-SHA256 under a fixed
    label): the same in every process, never the token itself."""
    return hmac.new(token, b"justdriving ops csrf v1", hashlib.sha256).digest()


def _secure(response: Response) -> Response:
    for name, value in _HEADERS.items():
        response.headers.setdefault(name, value)
    return response
