"""What justdriving's views take from the container, made when a request first needs it.

A `Wiring` holds the settings (the blueprint's shape depends on them: the dev checkout, the
landing page, the ops token) and makes the rest on first use, once per process, whichever of
the server's threads asks first: the container, the application facade with its use cases,
the database engine. `/healthz` needs none of them.

- `Wiring.of(container)`: a container the caller built; its application is made at once, so
  a provider that cannot be made (a missing credential) refuses before the app serves.
- `Wiring.deferred(settings)`: what `create_app()` uses when given no container. The settings
  are checked at once, as `build_container` checks them (a refused setting, a redirect that
  is not a number or an address, a malformed DATABASE_URL or a missing database driver);
  importing the container (dependency-injector, the adapters' factories) and the use cases
  waits for the first request that needs the application. A provider's own credentials are
  checked when it is made: outside production (production names them at once, see
  `Settings.check`), a missing one then answers that request 503 `configuration_error`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, Generic, ParamSpec, TypeVar

from justdriving.config import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from justdriving.application import Application
    from justdriving.container import Container

T = TypeVar("T")
S = TypeVar("S")
P = ParamSpec("P")


class Once(Generic[T]):
    """`make()` on the first call, by whichever thread comes first; the same result after. A
    `make` that raises is tried again on the next call."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._made: tuple[T] | None = None

    def __call__(self) -> T:
        made = self._made
        if made is None:
            with self._lock:
                made = self._made
                if made is None:
                    made = self._made = (self._make(),)
        return made[0]


def deferred(instance: Callable[[], S], method: Callable[Concatenate[S, P], T]) -> Callable[P, T]:
    """A view calling `method` on `instance()`, made on the view's first request; it keeps the
    method's name (a blueprint's default endpoint name)."""

    @functools.wraps(method)
    def view(*args: P.args, **kwargs: P.kwargs) -> T:
        return method(instance(), *args, **kwargs)

    return view


class Wiring:
    """The settings now; the container, the application and the engine on first use."""

    def __init__(
        self, settings: Settings, container: Callable[[], Container], *, sql: bool
    ) -> None:
        self.settings = settings
        self.sql = sql  # a SQL database (not memory://): the readiness check and DataError
        self.container = Once(container)
        self.application: Once[Application] = Once(lambda: self.container().application())
        self.engine: Once[Engine] = Once(lambda: self.container().engine())

    @classmethod
    def of(cls, container: Container) -> Wiring:
        wiring = cls(
            container.settings(), lambda: container, sql=container.config.database() == "sql"
        )
        wiring.application()  # made now: a provider that cannot be made refuses here
        return wiring

    @classmethod
    def deferred(cls, settings: Settings) -> Wiring:
        check_settings(settings)
        return cls(settings, functools.partial(_build, settings), sql=settings.sql_database)


def check_settings(settings: Settings) -> None:
    """What `build_container` refuses, without building it: ConfigurationError naming every
    setting it cannot honour."""
    from justdriving.config.policies import delivery_redirects

    settings.check()
    delivery_redirects(settings)
    if settings.sql_database:  # the URL parsed and its driver imported, as the engine will
        from justdriving.adapters.sql.engine import make_engine

        make_engine(settings.effective_database_url).dispose()


def _build(settings: Settings) -> Container:
    from justdriving.container import build_container

    return build_container(settings)
