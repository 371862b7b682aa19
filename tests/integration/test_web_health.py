"""GET /readyz on SQL: ready once the database answers and is migrated, 503 before."""

from __future__ import annotations

from pathlib import Path

from justdriving.adapters.sql.schema import upgrade
from justdriving.container import build_container
from justdriving.entrypoints.flask_app import create_app
from unit.entrypoints.web.support import settings_for


def test_readyz_is_503_until_the_database_is_migrated_then_200(tmp_path: Path) -> None:
    container = build_container(settings_for(f"sqlite:///{tmp_path / 'fresh.db'}"))
    client = create_app(container).test_client()

    before = client.get("/readyz")
    upgrade(container.engine())
    after = client.get("/readyz")

    assert before.status_code == 503
    assert before.json["error"]["code"] == "database_not_migrated"
    assert after.status_code == 200
    assert after.json["status"] == "ready"
    assert client.get("/healthz").status_code == 200
    container.engine().dispose()


def test_readyz_is_503_when_the_database_cannot_be_reached() -> None:
    container = build_container(settings_for("postgresql://nobody@127.0.0.1:9/nothing"))
    client = create_app(container).test_client()

    answer = client.get("/readyz")

    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "database_unavailable"
    assert "127.0.0.1" not in answer.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200  # alive, only not ready
