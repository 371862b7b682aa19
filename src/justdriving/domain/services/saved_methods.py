"""Saving, listing and removing a student's cards on file (the setup webhooks that finish a
saved card are applied by the inbox: `steps/account_events.py`).

The student's customer at the school's gateway is made the first time a card is saved: asked
of the provider under a key derived from our customer id (a retry, or two setups at once, get
the same customer), then stored; the loser of a race finds the winner's record. A card is
saved in the student's browser (3-D Secure where the bank asks) and counts as saved when the
provider's SETUP_SUCCEEDED webhook arrives. The provider holds the cards: listing asks it, and
shows brand, last 4 and expiry only.
"""

from __future__ import annotations

from attrs import frozen

from justdriving.domain.errors import DuplicateRecord, NotFound, ProviderRejected
from justdriving.domain.ids import new_id
from justdriving.domain.people import Student
from justdriving.domain.saved_methods import PaymentCustomer, SavedMethod, customer_id_for
from justdriving.domain.schools import School
from justdriving.domain.services.steps.billing import in_school
from justdriving.ports.clock import Clock
from justdriving.ports.payments import (
    CustomerRequest,
    GatewayRegistry,
    PaymentGateway,
    SetupRequest,
    SetupSession,
)
from justdriving.ports.persistence import UnitOfWorkFactory


@frozen
class CardSetup:
    """A card being saved: what the student's browser needs to enter it."""

    customer_id: str
    session: SetupSession


class SavedMethods:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, gateways: GatewayRegistry) -> None:
        self._uow, self._clock, self._gateways = uow, clock, gateways

    def start_saving_card(
        self, school_id: str, student_id: str, *, return_url: str | None = None
    ) -> CardSetup:
        """Begin saving a card for charges without the student (usage off session); the
        student's customer at the provider is made first if there is none yet. Raises
        CapabilityNotSupported when the school's gateway keeps no cards on file."""
        customer, gateway = self.customer(school_id, student_id, create=True)
        assert customer is not None
        session = gateway.start_setup(
            SetupRequest(
                customer_id=customer.id,
                provider_customer_id=customer.provider_customer_id,
                school_id=customer.school_id,
                idempotency_key=f"setup-{customer.id}-{new_id('try')}",
                return_url=return_url,
            )
        )
        return CardSetup(customer.id, session)

    def saved_payment_methods(self, school_id: str, student_id: str) -> list[SavedMethod]:
        """The student's saved cards, newest first: brand, last 4 and expiry."""
        customer, gateway = self.customer(school_id, student_id, create=False)
        if customer is None:
            return []
        return gateway.saved_methods(customer.provider_customer_id)

    def remove_payment_method(
        self, school_id: str, student_id: str, provider_method_id: str
    ) -> None:
        """Forget one of the student's saved cards at the provider; NotFound when the student
        has no such card (another student's included)."""
        customer, gateway = self.customer(school_id, student_id, create=False)
        if customer is None:
            raise NotFound("saved payment method", provider_method_id[:64])
        key = f"remove-{customer.id}-{provider_method_id}"
        try:
            gateway.remove_method(customer.provider_customer_id, provider_method_id, key)
        except ProviderRejected as error:
            if error.provider_code != "resource_missing":
                raise
            raise NotFound("saved payment method", provider_method_id[:64]) from None
        with self._uow() as uow:
            uow.payment_customers.get(customer.id).method_removed(
                provider_method_id, self._clock.now()
            )
            uow.commit()

    def customer(
        self, school_id: str, student_id: str, *, create: bool
    ) -> tuple[PaymentCustomer | None, PaymentGateway]:
        """The student's customer at the school's gateway (made now when `create` and there
        is none), and that gateway."""
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            student = in_school(uow.students.get(student_id), school.id, "student")
            gateway = self._gateways.for_school(school)
            found = uow.payment_customers.find(customer_id_for(school.id, student.id, gateway.name))
        if found is not None or not create:
            return found, gateway
        return self._create(school, student, gateway), gateway

    def _create(self, school: School, student: Student, gateway: PaymentGateway) -> PaymentCustomer:
        customer_id = customer_id_for(school.id, student.id, gateway.name)
        provider_id = gateway.create_customer(
            CustomerRequest(
                customer_id=customer_id,
                school_id=school.id,
                student_id=student.id,
                idempotency_key=f"customer-{customer_id}",
                name=student.name,
            )
        )
        customer = PaymentCustomer(
            id=customer_id,
            school_id=school.id,
            student_id=student.id,
            provider=gateway.name,
            provider_customer_id=provider_id,
            created_at=self._clock.now(),
        )
        try:
            with self._uow() as uow:
                uow.payment_customers.add(customer)
                uow.commit()
        except DuplicateRecord:  # made at the same moment elsewhere, with the same key
            with self._uow() as uow:
                return uow.payment_customers.get(customer_id)
        return customer
