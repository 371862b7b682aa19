"""The ops page: a read-only view of the inbox, outbox, messages, accounting runs and payments
held for review, with one action, retrying a dead outbox row.

- `GET  /ops`: the page.
- `POST /ops/outbox/<outbox_id>/retry`: revive a dead row (and requeue its message), then
  303 back to the page. Needs the form's CSRF token: a random nonce in a cookie, signed into
  a hidden field; anything else is a 403.

Off unless OPS_TOKEN is set: every `/ops` route is then a 404. With it, a request needs
`Authorization: Bearer <token>` or HTTP basic auth whose password is the token (any user
name), compared in constant time; otherwise a 401 asking for basic auth. The page is
server-rendered (autoescaped Jinja2), with inline CSS and no external assets; recipients are
masked and errors redacted and truncated by `OpsView`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Final

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import Forbidden, NotFound

from justdriving.domain.services.application import Application
from justdriving.domain.services.ops_view import OpsView

if TYPE_CHECKING:
    from justdriving.container import Container

NONCE_COOKIE: Final = "justdriving_ops_nonce"
TOKEN_MAX_AGE: Final = 8 * 3600
REALM: Final = "justdriving ops"
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


def ops_blueprint(container: Container) -> Blueprint:
    """The `/ops` routes; `justdriving_blueprint` mounts them (they answer 404 while
    OPS_TOKEN is unset)."""
    token = container.settings().ops_token
    pages = _OpsPages(container.application(), token or None)
    blueprint = Blueprint("ops", __name__, url_prefix="/ops", template_folder="templates")
    blueprint.before_request(pages.authenticate)
    blueprint.after_request(_secure)
    blueprint.add_url_rule("", "page", pages.page, methods=["GET"])
    blueprint.add_url_rule("/outbox/<outbox_id>/retry", "retry", pages.retry, methods=["POST"])
    return blueprint


class _OpsPages:
    def __init__(self, app: Application, token: str | None) -> None:
        self._app = app
        self._view = OpsView(app.uow)
        self._token = token.encode() if token else None
        # A key per process: a restart only invalidates forms left open.
        self._signer = URLSafeTimedSerializer(secrets.token_bytes(32), salt="ops-csrf")

    def authenticate(self) -> ResponseReturnValue | None:
        if self._token is None:
            raise NotFound()
        if self._presented(request.headers.get("Authorization", "")):
            return None
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
        html = render_template(
            "ops/justdriving_ops.html",
            ops=self._view.snapshot(),
            csrf_token=self._signer.dumps(nonce),
            retried=request.args.get("retried"),
            when=_when,
        )
        response = make_response(html)
        response.set_cookie(
            NONCE_COOKIE,
            nonce,
            httponly=True,
            samesite="Strict",
            secure=request.is_secure,
            path=url_for(".page"),
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


def _secure(response: Response) -> Response:
    for name, value in _HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if moment else "—"
