"""Logging: the format and level of every line the process writes."""

import enum

from attrs import frozen


class LogFormat(enum.StrEnum):
    JSON = "json"
    CONSOLE = "console"


class LogLevel(enum.StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


@frozen(kw_only=True, slots=False)
class LoggingSettings:
    """LOG_FORMAT, LOG_LEVEL. Production has no rule of its own here."""

    log_format: LogFormat = LogFormat.CONSOLE
    log_level: LogLevel = LogLevel.INFO
