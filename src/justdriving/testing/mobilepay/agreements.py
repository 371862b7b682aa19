"""The student's side of the Vipps MobilePay simulator's Recurring API (approving, rejecting or
stopping an agreement in the app) and Vipps MobilePay's processing of charges, with their
events (recurring.agreement-*.v1, recurring.charge-*.v1); mixed into MobilePaySimulator."""

from __future__ import annotations

import json
import uuid
from typing import Any

from justdriving.testing.mobilepay.merchants import Shared
from justdriving.testing.mobilepay.recurring import FAILURE_REASONS, Agreement, Charge
from justdriving.testing.mobilepay.wire import SimulatorError
from justdriving.testing.wire import Delivery


class RecurringSide(Shared):
    """The student's side of the Recurring API and the processing of charges."""

    _charge_failures: dict[str, list[str]]

    def agreement(self, agreement_id: str, msn: str | None = None) -> Agreement:
        return self._kept(lambda m: m.agreements, agreement_id, msn, "agreement")

    def approve_agreement(self, agreement_id: str) -> Delivery:
        """The student approves the agreement in the app (strong authentication there)."""
        with self._lock:
            agreement = self._agreement_in(agreement_id, "PENDING")
            agreement.status, agreement.start = "ACTIVE", self._now_text()
            return self._emit_agreement(agreement, "agreement-activated", "USER")

    def reject_agreement(self, agreement_id: str) -> Delivery:
        with self._lock:
            agreement = self._agreement_in(agreement_id, "PENDING")
            agreement.status, agreement.stop = "STOPPED", self._now_text()
            return self._emit_agreement(agreement, "agreement-rejected", "USER")

    def expire_agreement(self, agreement_id: str) -> Delivery:
        with self._lock:
            agreement = self._agreement_in(agreement_id, "PENDING")
            agreement.status = "EXPIRED"
            return self._emit_agreement(agreement, "agreement-expired", "VIPPS")

    def stop_agreement_in_app(self, agreement_id: str) -> Delivery:
        with self._lock:
            agreement = self._agreement_in(agreement_id, "ACTIVE")
            agreement.status, agreement.stop = "STOPPED", self._now_text()
            return self._emit_agreement(agreement, "agreement-stopped", "USER")

    def fail_next_charge(self, agreement_id: str, reason: str) -> None:
        """The next charge processed on the agreement fails for `reason` (a failureReason)."""
        if reason not in FAILURE_REASONS:
            raise SimulatorError(f"Vipps MobilePay gives no failureReason {reason!r}")
        with self._lock:
            self._charge_failures.setdefault(agreement_id, []).append(reason)

    def charge(self, charge_id: str, msn: str | None = None) -> Charge:
        return self._kept(lambda m: m.charges, charge_id, msn, "charge")

    def charge_count(self, msn: str | None = None) -> int:
        with self._lock:
            return len(self.merchants[msn or self.default_msn].charges)

    def process_charge(self, charge_id: str) -> Delivery:
        """Vipps MobilePay processes a PENDING charge (an UNSCHEDULED one at once, a RECURRING
        one on its due date): CHARGED, or FAILED with its reason."""
        with self._lock:
            charge = self.charge(charge_id)
            if charge.status != "PENDING":
                raise SimulatorError(f"charge {charge_id} is {charge.status}, not PENDING")
            queued = self._charge_failures.get(charge.agreement.id) or []
            maximum = charge.agreement.pricing.get("suggestedMaxAmount")
            if queued:
                charge.failure_reason = queued.pop(0)
            elif charge.agreement.status != "ACTIVE":
                charge.failure_reason = "non_technical_error"
            elif isinstance(maximum, int) and charge.amount > maximum:
                charge.failure_reason = "charge_amount_too_high"
            key = uuid.uuid4().hex
            if charge.failure_reason:
                charge.status = "FAILED"
                charge.history.append(self._history("FAIL", charge.amount, key, success=False))
                return self._emit_charge(charge, "charge-failed")
            charge.status = "CHARGED"
            charge.history.append(self._history("CAPTURE", charge.amount, key))
            return self._emit_charge(charge, "charge-captured")

    def _agreement_in(self, agreement_id: str, status: str) -> Agreement:
        agreement = self.agreement(agreement_id)
        if agreement.status != status:
            raise SimulatorError(f"agreement {agreement_id} is {agreement.status}, not {status}")
        return agreement

    def _charges_of(self, agreement: Agreement) -> list[Charge]:
        return [
            c for m in self.merchants.values() for c in m.charges.values()
            if c.agreement is agreement
        ]  # fmt: skip

    def _history(
        self, event: str, amount: int, key: str, *, success: bool = True
    ) -> dict[str, Any]:
        return {
            "occurred": self._now_text(),
            "event": event,
            "amount": amount,
            "idempotencyKey": key,
            "success": success,
        }

    def _emit_agreement(self, agreement: Agreement, name: str, actor: str) -> Delivery:
        payload: dict[str, Any] = {
            "agreementId": agreement.id,
            "agreementExternalId": agreement.external_id,
            "agreementUUID": str(uuid.uuid5(uuid.NAMESPACE_URL, agreement.id)),
            "occurred": self._now_text(),
            "actor": actor,
        }
        return self._deliver_event(agreement, f"recurring.{name}.v1", payload)

    def _emit_charge(self, charge: Charge, name: str) -> Delivery:
        payload: dict[str, Any] = {
            "agreementId": charge.agreement.id,
            "agreementExternalId": charge.agreement.external_id,
            "chargeId": charge.id,
            "amount": charge.amount,
            "currency": charge.agreement.currency,
            "chargeType": charge.type,
            "occurred": self._now_text(),
        }
        if charge.failure_reason:
            payload["failureReason"] = charge.failure_reason
            payload["failureDescription"] = f"The charge failed: {charge.failure_reason}"
        return self._deliver_event(charge.agreement, f"recurring.{name}.v1", payload)

    def _deliver_event(
        self, agreement: Agreement, event_type: str, payload: dict[str, Any]
    ) -> Delivery:
        merchant = next(m for m in self.merchants.values() if agreement.id in m.agreements)
        body = json.dumps({**payload, "eventType": event_type, "msn": merchant.msn}).encode()
        return self._deliver(merchant, event_type, body)
