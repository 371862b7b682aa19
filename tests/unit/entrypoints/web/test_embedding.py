"""Mounting justdriving in an existing Flask app, and nothing at import time."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence

import pytest
from flask import Flask

from justdriving.adapters.memory import WebhookDelivery
from justdriving.entrypoints import flask_app
from justdriving.entrypoints.flask_app import init_app
from justdriving.entrypoints.web import MAX_BODY_BYTES, dev_checkout

from .support import Site


def _host(site: Site) -> Flask:
    host = Flask("school_platform")

    @host.get("/")
    def home() -> str:
        return "the school platform"

    init_app(host, site.container, url_prefix="/payments")
    return host


def test_the_routes_mount_under_a_prefix_next_to_the_host_apps_own(site: Site) -> None:
    client = _host(site).test_client()

    assert client.get("/").get_data(as_text=True) == "the school platform"
    assert client.get("/payments/healthz").status_code == 200
    assert client.get("/healthz").status_code == 404


def test_errors_of_justdriving_views_are_json_and_the_hosts_own_pages_are_left_alone(
    site: Site,
) -> None:
    client = _host(site).test_client()

    refused = client.post("/payments/webhook/payments/fake", data=b"{}")
    hosts_404 = client.get("/no-such-page")

    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "invalid_signature"
    assert hosts_404.status_code == 404
    assert hosts_404.mimetype == "text/html"


def test_the_body_limit_holds_even_when_the_host_sets_none(site: Site) -> None:
    host = _host(site)
    assert host.config["MAX_CONTENT_LENGTH"] is None

    answer = host.test_client().post(
        "/payments/webhook/payments/fake", data=b"x" * (MAX_BODY_BYTES + 1)
    )

    assert answer.status_code == 413
    assert answer.json["error"]["code"] == "request_entity_too_large"


def test_the_dev_checkout_delivers_to_the_webhook_route_under_the_prefix(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls: list[str] = []
    done = threading.Event()

    def record(url: str, _: Sequence[WebhookDelivery]) -> None:
        urls.append(url)
        done.set()

    monkeypatch.setattr(dev_checkout, "deliver", record)
    checkout = site.checkout()
    client = _host(site).test_client()
    page = client.get(f"/payments/dev/checkout/{checkout.ref}").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]

    client.post(
        f"/payments/dev/checkout/{checkout.ref}",
        data={"outcome": "pay", "csrf_token": token},
        buffered=True,
    )

    assert done.wait(5)
    assert urls == ["http://127.0.0.1:80/payments/webhook/payments/fake"]  # the test server's port


def test_importing_the_web_modules_creates_no_app() -> None:
    for module in ("flask_app", "run", "web.routes", "web.dev_checkout", "web.server"):
        loaded = importlib.import_module(f"justdriving.entrypoints.{module}")
        assert not [v for v in vars(loaded).values() if isinstance(v, Flask)], module
    assert callable(flask_app.create_app)
