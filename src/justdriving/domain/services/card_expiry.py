"""Cards that expire before they are next charged: the student told once, with a link to save
a new one (the worker's job).

Only cards a plan will charge are looked at: the default card of each student whose plan has a
charge to come. The provider keeps the cards, so their expiry is asked of the school's gateway
(brand, last 4 and expiry, never more). A card is noticed when it no longer works on the day
of the next charge, or at the end of the current month; the message goes out once per card,
through the normal pipeline (the school's toggles, quiet hours, the outbox).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from justdriving.domain.errors import JustDrivingError
from justdriving.domain.formatting import date_text
from justdriving.domain.plans import PaymentPlan, add_months
from justdriving.domain.saved_methods import SavedMethod, customer_id_for
from justdriving.domain.schools import MessageType
from justdriving.domain.services.steps.messages import queue_message
from justdriving.ports.clock import Clock
from justdriving.ports.payments import GatewayRegistry
from justdriving.ports.persistence import UnitOfWorkFactory

log = logging.getLogger("justdriving.cards")

HORIZON = timedelta(days=400)  # plans whose next charge falls due within this are looked at
BATCH = 500


class CardExpiry:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, gateways: GatewayRegistry) -> None:
        self._uow, self._clock, self._gateways = uow, clock, gateways

    def notice_expiring_cards(self) -> int:
        """Tell each student whose saved card expires before its next charge (or this month)
        once, with the school's page to save a new card. Returns how many were told."""
        now = self._clock.now()
        with self._uow() as uow:
            plans = uow.plans.due(now + HORIZON, BATCH)
        earliest: dict[tuple[str, str], PaymentPlan] = {}
        for plan in plans:  # earliest due first: each student's first plan is the one
            earliest.setdefault((plan.school_id, plan.student_id), plan)
        told = 0
        for plan in earliest.values():
            try:
                told += self._check(plan, now)
            except JustDrivingError as error:  # one provider's outage stops no one else
                log.warning("card expiry not checked for a plan: %s", type(error).__name__)
        return told

    def _check(self, plan: PaymentPlan, now: datetime) -> int:
        with self._uow() as uow:
            school = uow.schools.get(plan.school_id)
            gateway = self._gateways.for_school(school)
            customer = uow.payment_customers.find(
                customer_id_for(school.id, plan.student_id, gateway.name)
            )
        card_id = customer.default_method_id if customer is not None else None
        if customer is None or card_id is None or card_id in customer.expiry_noticed:
            return 0
        card = _card(gateway.saved_methods(customer.provider_customer_id), card_id)
        next_due = plan.next_due_at or now
        if card is None or not card.expired_at(max(next_due, add_months(now, 1))):
            return 0
        with self._uow() as uow:
            customer = uow.payment_customers.get(customer.id)
            if not customer.notice_expiry(card_id):
                return 0
            student = uow.students.get(plan.student_id)
            context = {
                "brand": card.brand,
                "last4": card.last4,
                "expiry": f"{card.exp_month:02d}/{card.exp_year}",
                "next_charge": date_text(school.local_time(next_due).date(), student.language),
                "card_url": school.settings.card_page_url or "",
            }
            queue_message(uow, school, student, MessageType.CARD_EXPIRING, context, now)
            uow.commit()
        return 1


def _card(methods: list[SavedMethod], card_id: str) -> SavedMethod | None:
    return next((m for m in methods if m.provider_method_id == card_id), None)
