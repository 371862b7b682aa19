"""Identifiers: opaque strings with a readable prefix, made from uuid4."""

from __future__ import annotations

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
