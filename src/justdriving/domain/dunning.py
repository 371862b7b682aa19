"""Dunning: the ladder of reminders an overdue invoice climbs, as a school configures it.

A ladder is a few steps, each a number of days past the due date and a tone (friendly, firm,
final): the default reminds friendly at 3 days, firmly at 10 and a last time at 21. Each step
is sent once per invoice, in order; when the worker was away past several steps, only the
highest reached is sent (a friendly nudge after a firm one reads wrong) and the ones below it
count as passed. Nothing is sent for an invoice with nothing left to pay.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from attrs import field, frozen

from justdriving.domain.errors import InvalidInput

MAX_STEPS = 10
MAX_DAYS = 365


class Tone(enum.StrEnum):
    FRIENDLY = "friendly"
    FIRM = "firm"
    FINAL = "final"


def _days(_: Any, __: Any, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise InvalidInput(f"a dunning step is 0 to {MAX_DAYS} days past the due date")


def _tone(_: Any, __: Any, value: Tone) -> None:
    if not isinstance(value, Tone):
        raise InvalidInput(f"a dunning step's tone is one of {[t.value for t in Tone]}")


@frozen
class DunningStep:
    """Remind `after_days` days past the due date, in `tone`."""

    after_days: int = field(validator=_days)
    tone: Tone = field(validator=_tone)


DEFAULT_LADDER: tuple[DunningStep, ...] = (
    DunningStep(3, Tone.FRIENDLY),
    DunningStep(10, Tone.FIRM),
    DunningStep(21, Tone.FINAL),
)


def check_ladder(steps: Sequence[DunningStep]) -> None:
    """InvalidInput unless `steps` are at most MAX_STEPS DunningSteps, days strictly rising."""
    if not isinstance(steps, tuple) or not all(isinstance(s, DunningStep) for s in steps):
        raise InvalidInput("a dunning ladder is a tuple of DunningStep")
    if len(steps) > MAX_STEPS:
        raise InvalidInput(f"a dunning ladder has at most {MAX_STEPS} steps")
    days = [s.after_days for s in steps]
    if any(later <= earlier for earlier, later in pairwise(days)):
        raise InvalidInput("a dunning ladder's days must rise from step to step")


@frozen
class DueStep:
    """The step to send now (`index` in the ladder) and how late the invoice is."""

    index: int
    step: DunningStep
    days_overdue: int


def due_step(
    ladder: Sequence[DunningStep], due_at: datetime, now: datetime, steps_sent: int
) -> DueStep | None:
    """The highest step reached by `now` that is above every step sent, or None."""
    late = now - due_at
    if late <= timedelta(0):
        return None
    reached = [i for i, s in enumerate(ladder) if late >= timedelta(days=s.after_days)]
    if not reached or reached[-1] < steps_sent:
        return None
    index = reached[-1]
    return DueStep(index, ladder[index], late.days)
