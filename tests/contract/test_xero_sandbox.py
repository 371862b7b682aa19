"""XeroAccountingClient against a real Xero organisation (a demo company; marker `sandbox`).

Runs only with XERO_CLIENT_ID, XERO_CLIENT_SECRET, XERO_TENANT_ID and XERO_REFRESH_TOKEN in the
environment, and is skipped otherwise (never faked). Xero rotates the refresh token at every
refresh, so the one in the environment works once: the grant is kept in a file of its own
(XERO_GRANT_FILE, default ~/.cache/justdriving/xero-sandbox-grant.json, mode 600) and read from
there on the next run. The shared contract suite is not run here: it numbers invoices "1", "2"
and names contacts "Student 1", which would update a real organisation's own documents. These
tests use numbers and names of their own run instead. The organisation's codes differ by
region: XERO_ACCOUNT_CODE (default 200, Sales), XERO_TAX_TYPE (NONE), XERO_BANK_ACCOUNT_CODE
(090) and XERO_CURRENCY (GBP, the UK demo company's) say what to use. XERO_API_BASE and
XERO_IDENTITY_BASE point the tests elsewhere (the simulator) to rehearse them.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
    OAuthGrant,
)
from justdriving.domain.errors import ProviderRejected
from justdriving.domain.money import Money

SETTINGS = ("XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "XERO_TENANT_ID", "XERO_REFRESH_TOKEN")
MISSING = [name for name in SETTINGS if not os.environ.get(name)]

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(bool(MISSING), reason=f"Xero not configured: {', '.join(MISSING)}"),
]

RUN = secrets.token_hex(4)
CURRENCY = os.environ.get("XERO_CURRENCY", "GBP")
TODAY = datetime.now(UTC)


class FileGrants:
    """A GrantStore in a JSON file, so that the rotated refresh token outlives the run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, provider: str, tenant_id: str) -> OAuthGrant | None:
        key = OAuthGrant.key(provider, tenant_id)
        stored = json.loads(self.path.read_text()) if self.path.exists() else {}
        if stored.get("id") == key:
            return OAuthGrant(
                id=key,
                provider=provider,
                tenant_id=tenant_id,
                access_token=stored["access_token"],
                refresh_token=stored["refresh_token"],
                expires_at=datetime.fromisoformat(stored["expires_at"]),
            )
        return OAuthGrant(  # the first run: an expired access token forces a refresh
            id=key,
            provider=provider,
            tenant_id=tenant_id,
            access_token="",
            refresh_token=os.environ["XERO_REFRESH_TOKEN"],
            expires_at=datetime(2000, 1, 1, tzinfo=UTC),
        )

    def save(self, grant: OAuthGrant) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(
            json.dumps(
                {
                    "id": OAuthGrant.key(grant.provider, grant.tenant_id),
                    "access_token": grant.access_token,
                    "refresh_token": grant.refresh_token,
                    "expires_at": grant.expires_at.isoformat(),
                }
            )
        )
        partial.chmod(0o600)
        partial.replace(self.path)


@pytest.fixture(scope="module")
def xero() -> Iterator[object]:
    from justdriving.adapters.accounting.xero.client import XeroAccountingClient

    default = Path.home() / ".cache" / "justdriving" / "xero-sandbox-grant.json"
    client = XeroAccountingClient(
        os.environ["XERO_CLIENT_ID"],
        os.environ["XERO_CLIENT_SECRET"],
        os.environ["XERO_TENANT_ID"],
        FileGrants(Path(os.environ.get("XERO_GRANT_FILE", default))),
        payment_account_code=os.environ.get("XERO_BANK_ACCOUNT_CODE", "090"),
        # Only to rehearse these tests against the simulator: Xero itself by default.
        api_base=os.environ.get("XERO_API_BASE", "https://api.xero.com"),
        identity_base=os.environ.get("XERO_IDENTITY_BASE", "https://identity.xero.com"),
    )
    yield client
    client.close()


def line(amount: int, account: str | None = None) -> AccountingLine:
    code = account or os.environ.get("XERO_ACCOUNT_CODE", "200")
    tax = os.environ.get("XERO_TAX_TYPE", "NONE")
    return AccountingLine(
        "Driving lesson (justdriving test)", 1, Money(amount, CURRENCY), code, tax, True
    )


def invoice(n: int, *lines: AccountingLine) -> AccountingInvoice:
    return AccountingInvoice(
        f"inv_{RUN}_{n}", f"JD-{RUN}-{n}", f"stu_{RUN}", TODAY, TODAY + timedelta(days=14),
        CURRENCY, lines or (line(50000),),
    )  # fmt: skip


def test_a_contact_is_created_then_updated_by_its_number(xero: object) -> None:
    student = AccountingContact(f"stu_{RUN}", f"justdriving test student {RUN}")
    [first] = xero.upsert_contacts([student], f"jd-{RUN}-contacts-1")  # type: ignore[attr-defined]
    renamed = AccountingContact(student.record_id, f"justdriving test student {RUN} (renamed)")
    [again] = xero.upsert_contacts([renamed], f"jd-{RUN}-contacts-2")  # type: ignore[attr-defined]
    assert first.ok
    assert again.external_id == first.external_id


def test_invoice_payment_and_credit_note_with_a_refusal_in_the_batch(xero: object) -> None:
    xero.upsert_contacts(  # type: ignore[attr-defined]
        [AccountingContact(f"stu_{RUN}", f"justdriving test student {RUN} (renamed)")],
        f"jd-{RUN}-contacts-3",
    )
    batch = [invoice(1), invoice(2, line(50000, account="no-such-account"))]
    ok, refused = xero.push_invoices(batch, f"jd-{RUN}-invoices")  # type: ignore[attr-defined]
    assert ok.ok
    assert refused.error
    assert xero.push_invoices(batch, f"jd-{RUN}-invoices") == [ok, refused]  # type: ignore[attr-defined]
    payment = AccountingPayment(
        f"pay_{RUN}", str(ok.external_id), Money(30000, CURRENCY), TODAY, RUN
    )
    [paid] = xero.push_payments([payment], f"jd-{RUN}-payments")  # type: ignore[attr-defined]
    assert paid.ok, paid.error
    note = AccountingCreditNote(
        f"cn_{RUN}", f"JD-CN-{RUN}", f"stu_{RUN}", str(ok.external_id), TODAY, CURRENCY,
        (line(20000),),
    )  # fmt: skip
    [credited] = xero.push_credit_notes([note], f"jd-{RUN}-notes")  # type: ignore[attr-defined]
    assert credited.ok, credited.error


def test_more_than_fifty_records_are_refused_without_a_call(xero: object) -> None:
    too_many = [AccountingContact(f"x{n}", f"x{n}") for n in range(51)]
    with pytest.raises(ProviderRejected):
        xero.upsert_contacts(too_many, f"jd-{RUN}-big")  # type: ignore[attr-defined]
