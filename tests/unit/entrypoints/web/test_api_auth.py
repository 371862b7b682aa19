"""`/api` under `justdriving serve` takes the host application's bearer token (API_TOKEN), and
a checkout sends the payer back only to a host the platform configured."""

from __future__ import annotations

from typing import Any

import pytest

from justdriving.entrypoints.flask_app import serving_app

from .support import Site, build_site, settings_for

TOKEN = "host-app-api-token-0123456789"
ALLOWED = ("school.example", "pay.school.example:8443")


def _site(**changes: Any) -> Site:
    settings = settings_for(
        public_base_url="https://platform.example", return_url_hosts=ALLOWED, **changes
    )
    return build_site(settings)


def _payments(site: Site) -> int:
    counts: dict[str, int] = site.container.store().counts()
    return counts["payments"]


def _start(site: Site, body: dict[str, Any], **kwargs: Any) -> Any:
    return site.client().post(f"/api/invoices/{site.open_invoice()}/payments", json=body, **kwargs)


@pytest.mark.parametrize(
    "url",
    [
        "https://school.example/paid",
        "https://SCHOOL.example/paid?x=1#y",
        "http://school.example:8080/paid",
        "https://pay.school.example:8443/back",
        "https://platform.example/return",
    ],
)
def test_a_return_url_on_a_configured_host_is_passed_to_the_checkout(url: str) -> None:
    site = _site()

    answer = _start(site, {"school_id": site.school_id, "return_url": url})

    assert answer.status_code == 201, answer.json
    assert _payments(site) == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://school.example@evil.example/",
        "https://evil.example/",
        "https://school.example.evil.example/",
        "https://evil.example\\@school.example/",
        "https://evil.example\\.school.example/",
        "https://school.example:password@evil.example/",
        "https://pay.school.example:9999/back",
        "https://school.example:99999/",
        "https://school.example /",
        "https://school.example/\x01",
        "//school.example/x",
        "javascript:alert(1)//school.example",
        "ftp://school.example/",
        "https:///school.example/",
        "https://" + "a" * 3000 + ".school.example/",
    ],
)
def test_a_return_url_elsewhere_is_400_and_starts_nothing(url: str) -> None:
    site = _site()

    answer = _start(site, {"school_id": site.school_id, "return_url": url})

    assert answer.status_code == 400
    assert answer.json["error"]["message"].startswith("return_url")
    assert _payments(site) == 0


def test_without_configured_hosts_no_return_url_is_accepted() -> None:
    site = build_site()

    answer = _start(site, {"school_id": site.school_id, "return_url": "https://school.example/"})

    assert answer.status_code == 400
    assert "RETURN_URL_HOSTS" in answer.json["error"]["message"]
    assert _payments(site) == 0


def _served(token: str | None) -> Site:
    site = _site(api_token=token)
    return Site(
        site.container,
        serving_app(site.container),
        site.app,
        site.gateway,
        site.school_id,
        site.student_id,
    )


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer wrong"],
)
def test_under_serve_the_api_refuses_a_missing_or_wrong_token(authorization: str | None) -> None:
    site = _served(TOKEN)
    headers = {} if authorization is None else {"Authorization": authorization}

    answer = _start(site, {"school_id": site.school_id}, headers=headers)

    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert TOKEN not in answer.get_data(as_text=True)
    assert _payments(site) == 0


def test_under_serve_the_right_token_starts_the_payment() -> None:
    site = _served(TOKEN)

    answer = _start(
        site, {"school_id": site.school_id}, headers={"Authorization": f"bearer  {TOKEN}"}
    )

    assert answer.status_code == 201
    assert _payments(site) == 1


def test_under_serve_without_api_token_the_api_is_off_and_the_rest_is_on() -> None:
    site = _served(None)

    answer = _start(site, {"school_id": site.school_id}, headers={"Authorization": "Bearer x"})

    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "api_disabled"
    assert _payments(site) == 0
    assert site.client().get("/healthz").status_code == 200
    assert site.client().post("/webhook/payments/fake").status_code == 400  # not 401/403
