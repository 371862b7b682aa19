"""Campaign helpers: the scale (JUSTDRIVING_CAMPAIGN_SCALE, default 1 = CI size; 10 = full
size), a live waitress server, a PostgreSQL database of the run's own."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import create_engine, text

from justdriving.entrypoints.web.server import WebServer
from local_services import POSTGRES_ADMIN_URL, postgres_url


def campaign_scale() -> int:
    return max(1, int(os.environ.get("JUSTDRIVING_CAMPAIGN_SCALE", "1")))


@contextmanager
def live(flask: Flask) -> Iterator[str]:
    """The app served by waitress on a free port; yields its base URL."""
    server = WebServer(flask, "127.0.0.1", 0, threads=10)
    thread = threading.Thread(target=server.serve, name="waitress", daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.stop()
        thread.join(10)
        assert not thread.is_alive(), "waitress did not stop"


@contextmanager
def own_postgres_database(name: str) -> Iterator[str]:
    """A PostgreSQL database of this run's own (dropped after), next to `postgres_url()`'s."""
    database = f"{name}_{os.getpid()}"
    shared = postgres_url()  # skips, or fails under JUSTDRIVING_REQUIRE_SERVICES=1

    def admin(sql: str) -> None:
        engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(sql))
        finally:
            engine.dispose()

    admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{database}"')
    try:
        yield shared.rsplit("/", 1)[0] + f"/{database}"
    finally:
        admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
