"""Identifiers: opaque strings with a readable prefix, made from uuid4 (or derived from what
they stand for, where two writers racing must arrive at the same record)."""

from __future__ import annotations

import hashlib
import uuid
from typing import NewType

SchoolId = NewType("SchoolId", str)
TeacherId = NewType("TeacherId", str)
StudentId = NewType("StudentId", str)
BookingTypeId = NewType("BookingTypeId", str)
BookingId = NewType("BookingId", str)
PackageId = NewType("PackageId", str)
InvoiceId = NewType("InvoiceId", str)
PaymentId = NewType("PaymentId", str)
DepositId = NewType("DepositId", str)
RefundId = NewType("RefundId", str)
DisputeId = NewType("DisputeId", str)
MessageId = NewType("MessageId", str)


def new_id(prefix: str) -> str:
    """A fresh id such as `bk_3f2a…`; the prefix tells a reader what it names."""
    return f"{prefix}_{uuid.uuid4().hex}"


def derived_id(prefix: str, *parts: str) -> str:
    """The same id every time for the same `parts`, shaped like `new_id`'s."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"{prefix}_{digest[:32]}"
