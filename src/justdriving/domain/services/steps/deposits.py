"""Closing a booking's deposit when the booking ends: counted against the student's invoice,
or given back when the student owes nothing.
"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.bookings import Booking
from justdriving.domain.deposits import DepositStatus
from justdriving.domain.invoices import Invoice
from justdriving.ports.persistence import UnitOfWork


def close_deposit(
    uow: UnitOfWork, booking: Booking, invoices: list[Invoice], now: datetime
) -> None:
    """A booking ended: count its secured deposit against the student's invoice, or give it
    back when the student owes nothing."""
    deposit = uow.deposits.for_booking(booking.id)
    if deposit is None or deposit.status is not DepositStatus.SECURED:
        return
    owed = [i for i in invoices if i.student_id == deposit.student_id]
    if owed:
        deposit.settle(owed[0].id, now)
    else:
        deposit.give_back(now)
