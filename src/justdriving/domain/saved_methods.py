"""Cards on file: the provider customer a student pays through, and what a saved method shows.

A student gets one customer at the school's gateway, created the first time a card is saved
and linked by our id (`customer_id_for`), so that asking again never makes a second one. The
provider keeps the cards; we keep the link and which method was saved last (the one charged
when none is named), and show a method only by brand, last 4 digits and expiry.
"""

from __future__ import annotations

from datetime import datetime

from attrs import define, field, frozen

from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidInput
from justdriving.domain.events import (
    CardSetupFailed,
    EventLog,
    PaymentMethodRemoved,
    PaymentMethodSaved,
)
from justdriving.domain.ids import SchoolId, StudentId, derived_id


def customer_id_for(school_id: str, student_id: str, provider: str) -> str:
    """Our id of the student's customer at `provider`: the same every time it is asked."""
    return derived_id("cust", school_id, student_id, provider)


@frozen
class SavedMethod:
    """A saved method as anyone may see it. A card: brand, last 4 digits, expiry, never more.
    A wallet agreement (MobilePay Recurring: the student approved charges in the app) has no
    card to show: its brand only, and no digits or expiry at all."""

    provider_method_id: str
    brand: str
    last4: str | None
    exp_month: int | None
    exp_year: int | None

    def __attrs_post_init__(self) -> None:
        card = (self.last4, self.exp_month, self.exp_year)
        if card == (None, None, None):
            return  # an agreement: nothing more to show
        if self.last4 is None or self.exp_month is None or self.exp_year is None:
            raise InvalidInput("a saved card shows its last 4 digits and its expiry")
        if len(self.last4) != 4 or not self.last4.isdigit():
            raise InvalidInput("a saved method shows exactly its last 4 digits")
        if not 1 <= self.exp_month <= 12:
            raise InvalidInput("an expiry month is 1 to 12")

    @property
    def is_card(self) -> bool:
        return self.last4 is not None

    def expired_at(self, moment: datetime) -> bool:
        """Whether the card no longer works at `moment` (it works to the end of its month);
        an agreement never expires this way (it is stopped instead)."""
        if self.exp_year is None or self.exp_month is None:
            return False
        return (moment.year, moment.month) > (self.exp_year, self.exp_month)


@define(eq=False)
class PaymentCustomer(Entity):
    """The link between a student of a school and their customer at one provider."""

    id: str
    school_id: SchoolId
    student_id: StudentId
    provider: str
    provider_customer_id: str
    created_at: datetime
    default_method_id: str | None = None
    # The saved cards the student was told expire (each is told once).
    expiry_noticed: list[str] = field(factory=list)
    version: int = 0
    events: EventLog = field(factory=EventLog, repr=False)

    def method_saved(self, provider_method_id: str, now: datetime) -> bool:
        """The provider confirmed a setup: the method is saved and charged from now on when
        none is named. The same news again changes nothing."""
        if not provider_method_id:
            raise InvalidInput("a saved method has the provider's id")
        if self.default_method_id == provider_method_id:
            return False
        self.default_method_id = provider_method_id
        self.events.record(
            PaymentMethodSaved(
                now,
                self.id,
                self.student_id,
                self.provider,
                provider_method_id,
                school_id=self.school_id,
            )
        )
        return True

    def notice_expiry(self, provider_method_id: str) -> bool:
        """The student is to be told the card expires: True the first time, False after."""
        if provider_method_id in self.expiry_noticed:
            return False
        self.expiry_noticed.append(provider_method_id)
        return True

    def setup_failed(self, failure_code: str | None, now: datetime) -> None:
        self.events.record(
            CardSetupFailed(now, self.id, self.student_id, failure_code, school_id=self.school_id)
        )

    def method_removed(self, provider_method_id: str, now: datetime) -> None:
        if self.default_method_id == provider_method_id:
            self.default_method_id = None
        self.events.record(
            PaymentMethodRemoved(
                now, self.id, self.student_id, provider_method_id, school_id=self.school_id
            )
        )
