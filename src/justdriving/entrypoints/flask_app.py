"""The Flask app: `create_app()` for a process of its own, `init_app()` to mount justdriving
in an existing Flask app. Nothing happens at import time; there is no module-level app.

    from justdriving.entrypoints.flask_app import create_app
    app = create_app()            # settings from the environment

    init_app(existing_app, build_container(settings), api_guard=require_staff_login)

Creating the app loads only what its routes' shape needs: the container, the use cases and
the providers are made on the first request that needs them (see `web.wiring`); `/healthz`
needs none of them.

Routes: see `justdriving.entrypoints.web.routes`. Every error is a JSON body
`{"error": {"code": ..., "message": ...}}` (codes and statuses in `web.errors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from justdriving.config import Settings
from justdriving.entrypoints.web.access_log import AccessLog
from justdriving.entrypoints.web.api_auth import ApiGuard, require_api_token
from justdriving.entrypoints.web.errors import register_json_errors
from justdriving.entrypoints.web.guesses import WrongGuesses
from justdriving.entrypoints.web.routes import (
    MAX_BODY_BYTES,
    justdriving_blueprint,
    wired_blueprint,
)
from justdriving.entrypoints.web.wiring import Wiring

if TYPE_CHECKING:
    from justdriving.container import Container

__all__ = ["create_app", "init_app", "justdriving_blueprint", "serving_app"]


def create_app(container: Container | None = None, *, api_guard: ApiGuard | None = None) -> Flask:
    """A Flask app serving justdriving; without a container, the settings are read from the
    environment and checked now (a refused setting raises ConfigurationError here), and the
    container is built on the first request that needs it (`web.wiring`).

    Unknown routes, wrong methods (405) and bodies above MAX_CONTENT_LENGTH (413) answer in
    JSON too. The `/api` routes are not authenticated unless `api_guard` does it. With
    TRUSTED_PROXY_HOPS set, werkzeug's ProxyFix takes the scheme, host, port and client
    address from that many proxies' X-Forwarded-* headers."""
    wiring = Wiring.deferred(Settings.from_env()) if container is None else Wiring.of(container)
    app = Flask(__name__, static_folder=None)
    hops = wiring.settings.trusted_proxy_hops
    if hops:  # behind a TLS proxy: the scheme, host and client are the proxy's forwarded ones
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    register_json_errors(app)
    app.register_blueprint(wired_blueprint(wiring, api_guard=api_guard))
    return app


def serving_app(container: Container) -> Flask:
    """The app as `justdriving serve` runs it: `/api` takes `Authorization: Bearer API_TOKEN`
    (refused for everyone without API_TOKEN), and every request is logged on one line
    through justdriving's logging (`web.access_log`)."""
    guesses = WrongGuesses(container.clock())
    app = create_app(
        container, api_guard=require_api_token(container.settings().api_token, guesses)
    )
    app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]
    return app


def init_app(
    app: Flask,
    container: Container,
    *,
    url_prefix: str | None = None,
    api_guard: ApiGuard | None = None,
) -> None:
    """Mount justdriving's routes in `app` (under `url_prefix`, if given).

    Errors raised in justdriving's views answer in JSON; the app's own 404 and 405 pages are
    left alone. Request bodies on justdriving's routes are limited to MAX_BODY_BYTES."""
    app.register_blueprint(
        justdriving_blueprint(container, api_guard=api_guard), url_prefix=url_prefix
    )
