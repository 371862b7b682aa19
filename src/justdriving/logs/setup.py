"""Setting up logging: structlog and the standard library's logging through the same
processors, the Redactor last before rendering; and the correlation ids bound to each line.

structlog (and what it brings: rich, for its console renderer) is imported when logging is
configured or an id first bound, not with this module: creating an app does not load it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, Final

from justdriving.config import LogFormat, Settings
from justdriving.domain.errors import ConfigurationError
from justdriving.logs.redaction import _CURRENT, Redactor, secret_values


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes (tests and CLI runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


_HANDLER_MARK: Final = "_justdriving_logs"


# fpdf2's font subsetting and Alembic's start-up chatter, quiet unless they warn.
_CHATTY_LIBRARIES = ("fontTools", "alembic.runtime", "fpdf")


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> Redactor:
    """Set up structlog and the root logger from LOG_FORMAT and LOG_LEVEL; safe to call again
    (the handler of an earlier call is replaced; other handlers are left alone).

    Lines go to `stream` (default: standard error). Returns the redactor in use, which knows
    every secret value of `settings`.
    """
    import structlog

    redactor = Redactor(secret_values(settings))
    _CURRENT[0] = redactor
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any
    if settings.log_format is LogFormat.JSON:
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redactor,
            renderer,
        ],
    )
    handler: logging.Handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.value)
    for chatty in _CHATTY_LIBRARIES:  # their INFO lines say nothing an operator needs
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return redactor


def configure_logging_from_env() -> Redactor:
    """configure_logging(Settings.from_env()); with an invalid configuration, the defaults
    (the command then reports the configuration error itself)."""
    try:
        settings = Settings.from_env()
    except ConfigurationError:
        settings = Settings()
    return configure_logging(settings)


@contextmanager
def bind_ids(**ids: str | None) -> Iterator[None]:
    """Bind correlation ids (request_id, inbox_event_id, outbox_message_id, school_id) to
    every log line written inside the block, on this thread or task; unset ids are skipped."""
    import structlog

    with structlog.contextvars.bound_contextvars(**{k: v for k, v in ids.items() if v is not None}):
        yield


def bind_request(request_id: str) -> None:
    """Start a request: forget the ids of the previous one on this thread, bind `request_id`."""
    import structlog

    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
