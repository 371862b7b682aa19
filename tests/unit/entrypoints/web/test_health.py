"""GET /healthz and /readyz (the SQL cases are in tests/integration/test_web_health.py)."""

from __future__ import annotations

import justdriving

from .support import Site


def test_healthz_answers_200_with_the_version(site: Site) -> None:
    answer = site.client().get("/healthz")

    assert answer.status_code == 200
    assert answer.json == {"status": "ok", "version": justdriving.__version__}


def test_readyz_on_the_memory_store_is_ready(site: Site) -> None:
    answer = site.client().get("/readyz")

    assert answer.status_code == 200
    assert answer.json["status"] == "ready"


def test_an_unknown_route_is_a_json_404(site: Site) -> None:
    answer = site.client().get("/wp-admin")

    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"
