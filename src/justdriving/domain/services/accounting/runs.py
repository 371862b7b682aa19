"""What sync and export runs share: progress reports, `since` dates, and watermarks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from justdriving.domain.accounting import SyncRun
from justdriving.domain.errors import InvalidInput
from justdriving.domain.moments import check_moment
from justdriving.domain.schools import School
from justdriving.ports.persistence import UnitOfWork

Progress = Callable[[str, int, int], None]
"""Told (school name, records done, records in the run) as a run goes."""

_RUNS_LOOKED_AT = 50


def moment(school: School, since: date | None) -> datetime | None:
    """`since` as a UTC moment; a date is its midnight in the school's time zone."""
    if since is None:
        return None
    if isinstance(since, datetime):
        if since.utcoffset() is None:
            raise InvalidInput("since must be timezone-aware")
        return check_moment(since, "since").astimezone(UTC)
    if not isinstance(since, date):
        raise InvalidInput("since is a date or a datetime")
    midnight = datetime.combine(since, time(0), tzinfo=ZoneInfo(school.timezone))
    return check_moment(midnight, "since").astimezone(UTC)


def previous_watermark(uow: UnitOfWork, provider: str, school_id: str) -> datetime | None:
    """Where the last finished run (not a dry run) said the next one should start."""
    for run in uow.sync_runs.latest(provider, school_id, _RUNS_LOOKED_AT):
        if not run.dry_run and run.finished_at is not None:
            return run.watermark
    return None


def next_watermark(
    run: SyncRun, previous: datetime | None, explicit: datetime | None
) -> datetime | None:
    """Where the next run starts: this run's start, once everything dated since the previous
    watermark was looked at; otherwise (a dry run, a run stopped early, a `since` later than
    the previous watermark) the previous watermark still."""
    if run.dry_run or run.stopped_early:
        return previous
    if previous is None or explicit is None or explicit <= previous:
        return run.started_at
    return previous
