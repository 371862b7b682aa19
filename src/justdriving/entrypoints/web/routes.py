"""The justdriving blueprint: health, readiness, payment webhooks and starting a checkout.

Mount it in any Flask app with `app.register_blueprint(justdriving_blueprint(container))`
(`flask_app.init_app` does that and sets the body limit). Routes, relative to the mount point:

- `GET  /healthz`: 200 `{"status": "ok", "version": ...}` while the process runs.
- `GET  /readyz`: 200 once the database answers and is migrated, else 503.
- `POST /webhook/<channel>/<provider>` (and `/webhook/sms/<provider>/status|inbound`): a
  provider's raw, signed callback (see `web.webhook_routes`).
- `POST /api/invoices/<invoice_id>/payments`: start paying an open invoice (see `api_guard`).
- `/ops`: the read-only ops page, when OPS_TOKEN is set (see `web.ops`).
- `/dev/checkout/...`: the fake gateway's checkout page, only when PAYMENT_PROVIDER=fake
  (never in production).
- `GET|POST /pay/<invoice_id>`: the pay link of an invoice (see `web.pay`).
- `GET /`: outside production, a landing page linking the open invoices, ops page and docs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import Headers

from justdriving import __version__
from justdriving.adapters.sql.schema import pending
from justdriving.application import Application
from justdriving.config import PaymentProvider, Settings
from justdriving.domain.errors import (
    InvalidInput,
)
from justdriving.domain.ids import new_id
from justdriving.entrypoints.web.api_auth import ApiGuard, check_return_url
from justdriving.entrypoints.web.boundary import register_malformed_input
from justdriving.entrypoints.web.dev_checkout import dev_checkout_blueprint
from justdriving.entrypoints.web.errors import error_body, register_json_errors
from justdriving.entrypoints.web.invoice_view import invoice_view
from justdriving.entrypoints.web.ops import ops_blueprint
from justdriving.entrypoints.web.pay import landing_blueprint, pay_blueprint
from justdriving.entrypoints.web.webhook_routes import webhook_blueprint
from justdriving.logs import bind_request
from justdriving.ports.payments import GatewayRegistry

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from justdriving.container import Container

log = logging.getLogger("justdriving.web")

# Webhook and API bodies are small; a provider's largest event is far below this.
MAX_BODY_BYTES = 1024 * 1024


def justdriving_blueprint(container: Container, *, api_guard: ApiGuard | None = None) -> Blueprint:
    """The blueprint for `container`; its errors answer in JSON (see web.errors).

    `api_guard` runs before every `/api/...` view: authenticate the caller there (return a
    response to refuse, None to let the request through). Embedded, justdriving does not
    authenticate its API itself: that is the embedding application's job; `justdriving serve`
    passes `api_auth.require_api_token` (a bearer token, API_TOKEN). Webhooks are authenticated by
    their signature, health checks by nothing.
    """
    views = _Views(container)
    blueprint = Blueprint("justdriving", __name__)
    blueprint.before_request(_limit_body)
    blueprint.before_request(_correlate)
    register_json_errors(blueprint)
    # After the body limit: 413 comes first.
    register_malformed_input(blueprint, sql=container.config.database() == "sql")
    blueprint.add_url_rule("/healthz", view_func=views.healthz, methods=["GET"])
    blueprint.add_url_rule("/readyz", view_func=views.readyz, methods=["GET"])
    api = Blueprint("api", __name__, url_prefix="/api")
    if api_guard is not None:
        api.before_request(api_guard)
    api.add_url_rule(
        "/invoices/<invoice_id>/payments",
        endpoint="start_invoice_payment",
        view_func=views.start_invoice_payment,
        methods=["POST"],
    )
    blueprint.register_blueprint(api)
    blueprint.register_blueprint(webhook_blueprint(views.application, RequestHeaders))
    blueprint.register_blueprint(ops_blueprint(container))  # 404 unless OPS_TOKEN is set
    blueprint.register_blueprint(pay_blueprint(container))
    if not views.settings.is_production:
        blueprint.register_blueprint(landing_blueprint(container))
    if _fake_gateway_chosen(views.settings):
        blueprint.register_blueprint(dev_checkout_blueprint(container))
    return blueprint


class _Views:
    def __init__(self, container: Container) -> None:
        # Resolved once, here: the providers are singletons, and the views run on many threads.
        self.settings: Settings = container.settings()
        self._app: Application = container.application()
        self.application = self._app
        self._gateways: GatewayRegistry = container.gateways()
        self._engine: Engine | None = (
            container.engine() if container.config.database() == "sql" else None
        )

    def healthz(self) -> ResponseReturnValue:
        return {"status": "ok", "version": __version__}

    def readyz(self) -> ResponseReturnValue:
        if self._engine is None:
            return {"status": "ready", "version": __version__}
        try:
            behind = pending(self._engine)
        except Exception as error:
            log.warning("readiness: the database cannot be reached: %s", type(error).__name__)
            return error_body("database_unavailable", "the database cannot be reached", 503)
        if behind:
            message = "the database lacks migrations: run `justdriving migrate`"
            return error_body("database_not_migrated", message, 503)
        return {"status": "ready", "version": __version__}

    def start_invoice_payment(self, invoice_id: str) -> ResponseReturnValue:
        """`{"school_id": ..., "return_url": optional}` → 201 with what the front end needs."""
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict):
            raise InvalidInput("the body must be a JSON object")
        school_id = _text(data, "school_id")
        if school_id is None:
            raise InvalidInput("school_id is required")
        return_url = _text(data, "return_url")
        if return_url is not None:
            check_return_url(return_url, self.settings)
        started = self._app.start_invoice_payment(school_id, invoice_id, return_url=return_url)
        session = started.session
        shown = self._app.payer.invoice(invoice_id)
        return {
            "payment_id": started.payment.id,
            "provider": session.provider,
            "client_secret": session.client_secret,
            "redirect_url": session.redirect_url,
            # What the checkout shows: the lines with VAT, in the school's language.
            "invoice": invoice_view(shown.invoice, shown.school),
        }, 201


def _fake_gateway_chosen(settings: Settings) -> bool:
    """The dev checkout pays through the fake gateway: it exists only when that is the
    platform's gateway, which production refuses."""
    return settings.payment_provider is PaymentProvider.FAKE and not settings.is_production


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} must be a non-empty string")
    return value


def _correlate() -> None:
    """Every log line of this request carries its id: the caller's X-Request-Id, or a new one."""
    given = request.headers.get("X-Request-Id", "")
    usable = given if 0 < len(given) <= 64 and given.replace("-", "").isalnum() else ""
    bind_request(usable or new_id("req"))


def _limit_body() -> None:
    """Hold every request of the blueprint to MAX_BODY_BYTES, even in an app with a laxer
    MAX_CONTENT_LENGTH; above it the body is never read and the answer is a JSON 413."""
    current = request.max_content_length
    if current is None or current > MAX_BODY_BYTES:
        request.max_content_length = MAX_BODY_BYTES


class RequestHeaders(Mapping[str, str]):
    """The request's headers as the Mapping the gateways take, looked up case-insensitively."""

    def __init__(self, headers: Headers) -> None:
        self._headers = headers

    def __getitem__(self, name: str) -> str:
        return self._headers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._headers.items()))

    def __len__(self) -> int:
        return len(dict(self._headers.items()))
