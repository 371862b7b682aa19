"""Starting the composition root: a container checked against its settings, and the wired
application (a database that lacks migrations refused)."""

from __future__ import annotations

from justdriving.adapters.sql import factory as sql
from justdriving.application import Application
from justdriving.config import Settings
from justdriving.config.policies import delivery_redirects
from justdriving.container.capabilities import Container


def build_container(settings: Settings) -> Container:
    """A container for `settings`; ConfigurationError names every setting it cannot honour
    (a bad staging redirect and a malformed DATABASE_URL too, before any message or query)."""
    settings.check()
    delivery_redirects(settings)  # refused redirects named before anything is made
    container = Container(settings=settings)
    container.config.from_dict(
        {
            "database": "sql" if settings.sql_database else "memory",
            "database_url": settings.effective_database_url,
        }
    )
    if settings.sql_database:
        container.engine()
    return container


def bootstrap(settings: Settings | None = None) -> Application:
    """The wired application (settings from the environment unless given); a database that
    lacks migrations is refused, saying how to apply them, unless `application` is overridden."""
    container = build_container(settings or Settings.from_env())
    if container.config.database() == "sql" and not container.application.overridden:
        sql.refuse_unmigrated(container.engine())
    return container.application()
