"""Payment gateway port: start, capture, cancel and refund payments; keep cards on file and
charge them; verify and parse webhooks."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable

from attrs import field, frozen

from justdriving.domain.connect import ConnectedAccount
from justdriving.domain.money import Money
from justdriving.domain.payment_events import ProviderPaymentEvent
from justdriving.domain.payments import CaptureMode, Payment
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.saved_methods import SavedMethod
from justdriving.domain.schools import School
from justdriving.ports.webhooks import WebhookHead


@frozen
class PaymentRequest:
    """Everything a gateway needs to start collecting `amount` for our payment `payment_id`."""

    payment_id: str
    school_id: str
    amount: Money
    description: str
    idempotency_key: str
    capture_mode: CaptureMode = CaptureMode.AUTOMATIC
    customer_email: EmailAddress | None = None
    return_url: str | None = None
    metadata: Mapping[str, str] = field(factory=dict)
    # The payer's phone (MobilePay fills it in on its page, or pushes the payment to the app
    # when there is no return URL); gateways that do not use it ignore it.
    customer_phone: PhoneNumber | None = field(default=None, repr=False)
    # Wallets the school offers besides cards, where the gateway takes them (Stripe: MobilePay).
    offer_mobilepay: bool = False
    # The platform's fee, taken from a payment made on a school's connected account.
    application_fee: Money | None = None


@frozen
class PaymentSession:
    """What the front end needs: a client secret (embedded form) and/or a redirect URL."""

    provider: str
    provider_payment_id: str
    client_secret: str | None = field(default=None, repr=False)
    redirect_url: str | None = None


@frozen
class RefundRequest:
    refund_id: str
    provider_payment_id: str
    amount: Money
    reason: str
    idempotency_key: str
    payment_id: str | None = None  # ours, for the provider's metadata


@frozen
class RefundResult:
    provider_refund_id: str
    status: RefundStatus


@frozen
class CustomerRequest:
    """A customer at the provider for one student of one school, linked by our `customer_id`."""

    customer_id: str
    school_id: str
    student_id: str
    idempotency_key: str
    name: str | None = None


@frozen
class SetupRequest:
    """Save a card for later charges without the student (off session)."""

    customer_id: str  # ours, in the provider's metadata so that its webhooks find the customer
    provider_customer_id: str
    school_id: str
    idempotency_key: str
    return_url: str | None = None


@frozen
class SetupSession:
    """What the student's browser needs to enter the card and pass 3-D Secure."""

    provider: str
    provider_setup_id: str
    client_secret: str | None = field(default=None, repr=False)
    redirect_url: str | None = None


@frozen
class SavedChargeRequest:
    """Charge a saved method now, without the student there, for our payment `payment_id`."""

    payment_id: str
    school_id: str
    provider_customer_id: str
    provider_method_id: str
    amount: Money
    description: str
    idempotency_key: str
    metadata: Mapping[str, str] = field(factory=dict)
    application_fee: Money | None = None


class ChargeStatus(enum.StrEnum):
    SUCCEEDED = "succeeded"
    PROCESSING = "processing"  # the money is on its way; its webhook finishes it
    REQUIRES_ACTION = "requires_action"  # the bank wants the student to authenticate
    DECLINED = "declined"


@frozen
class ChargeResult:
    """How a charge to a saved method went; the provider keeps the payment in every case, so
    a charge that needs the student can be finished by them with `client_secret`."""

    provider: str
    provider_payment_id: str
    status: ChargeStatus
    amount: Money | None = None  # what was taken, when it succeeded
    decline_code: str | None = None  # the provider's, when declined (or why it needs the payer)
    client_secret: str | None = field(default=None, repr=False)


@runtime_checkable
class DeferredWebhooks(Protocol):
    """A gateway whose webhooks can be verified now and read later (QUEUE_BACKEND=worker):
    `admit_webhook` then `read_webhook` on the same body gives what `parse_webhook` gives.

    - `admit_webhook` verifies on the raw bytes exactly as `parse_webhook` does (raising
      InvalidSignature or MalformedWebhook before anything is parsed), then reads only the
      event's id and type; UnusableWebhook when the signed body has neither.
    - `read_webhook` translates a body `admit_webhook` let in (not verified again: the
      signature's time window has passed by then); UnusableWebhook when it cannot be read.
    """

    def admit_webhook(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> WebhookHead: ...

    def read_webhook(self, body: bytes) -> list[ProviderPaymentEvent]: ...


class PaymentGateway(Protocol):
    """One payment provider.

    Contract:
    - Calls that create or change money take an idempotency key; the same key with the same
      arguments returns the same result and never charges or refunds twice.
    - Raises PaymentDeclined (payer's bank said no, `provider_code` = decline code),
      ProviderUnavailable (timeout, 5xx, 429: retryable), ProviderRejected (invalid request),
      ConfigurationError (bad credentials). No provider SDK type or error escapes.
    - `parse_webhook` verifies the signature on the exact raw bytes (constant-time) and returns
      provider-neutral events, or raises InvalidSignature / MalformedWebhook. Event types it
      does not handle come back with kind UNKNOWN.
    """

    name: str
    # The school's connected account this gateway acts on (on_account); None: the platform's.
    account: str | None

    def start(self, request: PaymentRequest) -> PaymentSession: ...

    def complete(self, provider_payment_id: str, idempotency_key: str) -> None:
        """Finish a payment the payer approved at the provider, after its APPROVED event
        (PayPal: capture the order, or authorize it when it is a hold). Providers whose
        payments finish by themselves (Stripe) do nothing. Idempotent by key."""
        ...

    def capture(self, provider_payment_id: str, amount: Money, idempotency_key: str) -> None: ...

    def cancel(self, provider_payment_id: str, idempotency_key: str) -> None: ...

    def refund(self, request: RefundRequest) -> RefundResult: ...

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> list[ProviderPaymentEvent]: ...

    # Cards on file. A gateway that keeps none raises CapabilityNotSupported from each.

    def create_customer(self, request: CustomerRequest) -> str:
        """The provider's id of a new customer for the student; the same key gives the same
        customer. Our `customer_id` goes in its metadata."""
        ...

    def start_setup(self, request: SetupRequest) -> SetupSession:
        """Begin saving a card for off-session charges. The student finishes it in the browser
        (3-D Secure where the bank asks); the webhook saying SETUP_SUCCEEDED, with the method's
        id and our customer id, completes it. Idempotent by key."""
        ...

    def saved_methods(self, provider_customer_id: str) -> list[SavedMethod]:
        """The cards saved for the customer, newest first: brand, last 4, expiry only."""
        ...

    def remove_method(
        self, provider_customer_id: str, provider_method_id: str, idempotency_key: str
    ) -> None:
        """Forget a saved card. One the customer does not hold raises ProviderRejected; a
        retry of a removal that went through is fine."""
        ...

    def charge_saved(self, request: SavedChargeRequest) -> ChargeResult:
        """Charge a saved method off session. A decline or the bank's demand for the student
        is a result, not an error (the provider keeps that payment); the same key charges
        once. Raises ProviderRejected for a method the customer does not hold."""
        ...

    # Connected accounts (Stripe Connect).

    def on_account(self, account_id: str) -> PaymentGateway:
        """This gateway acting on a school's connected account: every call through it
        (payments, captures, cancellations, refunds, customers, cards) is made on that
        account, and a payment made on one account is not found on another. Gateways without
        connected accounts raise CapabilityNotSupported."""
        ...


@frozen
class AccountRequest:
    """A connected account for a school, made once per idempotency key."""

    school_id: str
    idempotency_key: str
    country: str | None = None
    email: EmailAddress | None = None


class ConnectedAccounts(Protocol):
    """Schools' own accounts at the provider (Stripe Connect) and their onboarding.

    Contract: `create_account` with the same key gives the same account; `onboarding_link`
    gives a single-use URL at the provider where the school enters its details (it expires:
    ask again from `refresh_url`). Raises ProviderRejected (an account not ours),
    ProviderUnavailable, ConfigurationError, as the gateway does."""

    def create_account(self, request: AccountRequest) -> ConnectedAccount: ...

    def onboarding_link(self, account_id: str, return_url: str, refresh_url: str) -> str: ...

    def account_status(self, account_id: str) -> ConnectedAccount:
        """What the provider says of the account now (charges enabled, details submitted)."""
        ...


class GatewayRegistry(Protocol):
    """Resolves a school's gateway; raises PaymentNotAllowed for a manual-only school and
    ConfigurationError for a gateway that is not configured here.

    A gateway in Connect mode is given acting on the school's connected account, and only
    once charges are enabled on it (ChargesNotEnabled before). A school may also have its own
    account at a provider (its PayPal credentials): `for_school` and `for_payment` then answer
    with a gateway on that account; `school_gateway` is that gateway alone (NotFound when the
    school has none), for the school's own webhook URL."""

    def for_school(self, school: School) -> PaymentGateway: ...

    def by_name(self, name: str) -> PaymentGateway: ...

    def for_payment(self, payment: Payment) -> PaymentGateway:
        """The gateway a payment was made with, on the account it was made on."""
        ...

    def connect_for(self, school: School) -> tuple[PaymentGateway, ConnectedAccounts]:
        """The school's gateway and its connected accounts; ConfigurationError when the
        school's gateway is not in Connect mode here."""
        ...

    def school_gateway(self, name: str, school_id: str) -> PaymentGateway:
        """The school's own account at `name` (its stored credentials); NotFound without."""
        ...
