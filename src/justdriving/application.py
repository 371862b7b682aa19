"""The application facade: every use case by name, wired to the ports it is given."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from justdriving import facades
from justdriving.domain.delivery_policy import DeliveryPolicy
from justdriving.domain.services.accounting.books import as_books
from justdriving.domain.services.accounting.connections import BooksConnections
from justdriving.domain.services.accounting.export import AccountingExport, AccountingExporter
from justdriving.domain.services.accounting.grants import StoredGrants
from justdriving.domain.services.accounting.push import RetryPolicy
from justdriving.domain.services.accounting.reconciliation import Reconciliation
from justdriving.domain.services.accounting.sync import AccountingSync
from justdriving.domain.services.agendas import Agendas
from justdriving.domain.services.announcements import Announcements
from justdriving.domain.services.arguments import check_use_cases
from justdriving.domain.services.balances import Balances
from justdriving.domain.services.bookings import Bookings
from justdriving.domain.services.card_expiry import CardExpiry
from justdriving.domain.services.changes import Changes
from justdriving.domain.services.charges import CustomerCharges
from justdriving.domain.services.connected_accounts import ConnectOnboarding
from justdriving.domain.services.deposit_holds import DepositHolds
from justdriving.domain.services.inbound import FailureReport, InboundWebhooks
from justdriving.domain.services.inbox_defaults import GatewayReceivers
from justdriving.domain.services.invoicing import Invoicing
from justdriving.domain.services.message_webhooks import MessageWebhooks
from justdriving.domain.services.operations import Operations
from justdriving.domain.services.outgoing_events import OutgoingEvents
from justdriving.domain.services.packages import Packages
from justdriving.domain.services.payment_review import PaymentReview
from justdriving.domain.services.payment_starts import PaymentStarts
from justdriving.domain.services.payments import Payments
from justdriving.domain.services.plans import PaymentPlans
from justdriving.domain.services.reactions import BOOKS, REACTIONS, Reacting, combined
from justdriving.domain.services.refunds import Refunds
from justdriving.domain.services.registration import Registration
from justdriving.domain.services.reminders import Reminders
from justdriving.domain.services.saved_methods import SavedMethods
from justdriving.domain.services.school_accounts import SchoolAccounts
from justdriving.domain.services.staff_alerts import StaffAlerts
from justdriving.domain.services.subscriptions import Subscribers
from justdriving.domain.services.template_messages import TemplateMessages
from justdriving.domain.services.views.directory import Directory
from justdriving.domain.services.views.money import MoneyView
from justdriving.domain.services.views.money_rows import Redact
from justdriving.domain.services.views.payer import PayerView
from justdriving.ports.accounting import AccountingBooks, AccountingClient, AccountingConsent
from justdriving.ports.clock import Clock
from justdriving.ports.documents import InvoicePdf, PayLinks
from justdriving.ports.host_events import HostEventSender
from justdriving.ports.messaging import EmailSender, SmsSender, TemplateRenderer
from justdriving.ports.payments import GatewayRegistry
from justdriving.ports.persistence import InboxIntake, UnitOfWorkFactory
from justdriving.ports.webhooks import WebhookReceivers
from justdriving.relay.engine import Relay, RelayPolicy


class Application:
    """What `justdriving.bootstrap()` returns: `app.book_lesson(...)`, `app.refund(...)`, ...

    Every use case (and every operator's query on `operations`) checks its arguments against
    its signature before it runs: a wrong type is InvalidInput naming the argument."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        gateways: GatewayRegistry,
        sms: SmsSender,
        email: EmailSender,
        renderer: TemplateRenderer,
        relay_policy: RelayPolicy | None = None,
        delivery: DeliveryPolicy | None = None,
        invoice_pdf: InvoicePdf | None = None,
        pay_links: PayLinks | None = None,
        accounting: AccountingClient | AccountingBooks | None = None,
        exporter: AccountingExporter | None = None,
        accounting_retry: RetryPolicy | None = None,
        host_events: HostEventSender | None = None,
        host_event_topics: Iterable[str] | None = None,
        accounting_push: bool = False,
        redact: Redact | None = None,
        receivers: WebhookReceivers | None = None,
        apply_webhooks_inline: bool = False,
        webhook_failures: FailureReport | None = None,
        inbox_intake: InboxIntake | None = None,
        staff_alert_email: str | None = None,
        ops_base_url: str | None = None,
        accounting_consent: Callable[[], AccountingConsent] | None = None,
        grants: StoredGrants | None = None,
        unsealed_secrets: bool = False,
    ) -> None:
        """`accounting_push` (ACCOUNTING_SYNC_ENABLED, with an `accounting` client): what must
        reach the books is queued for the relay as it happens (issued invoices, payments of
        invoices, credit notes). `inbox_intake`: the inbox's one-INSERT door; with it, and
        the worker applying webhooks, payment webhooks are stored raw and read by the worker."""
        self.uow = uow  # as given: for reads outside the use cases
        self.clock = clock
        # Applied to every stored error text shown to people (the container gives the log
        # redaction, which knows the configuration's secret values).
        self.redact: Redact = redact or _unchanged
        # Every use case's commit runs the reactions to its domain events first (with the
        # accounting push's when it is on), then hands the committed events to the host's
        # subscribers (`subscribe`); with a host endpoint, the events it wants are queued for it
        # in the same transaction.
        books = as_books(accounting)  # a single client: the same books for every school
        pushing = accounting_push and books is not None
        reactions = combined(REACTIONS, BOOKS) if pushing else REACTIONS
        subscribers = Subscribers()
        self.subscribe = subscribers.subscribe
        outgoing = OutgoingEvents(host_event_topics) if host_events is not None else None
        uow = Reacting(uow, clock, reactions, subscribers=subscribers, outgoing=outgoing)
        registration = Registration(uow)
        changes = Changes(uow, clock)
        bookings = Bookings(uow, clock)
        packages = Packages(uow, clock)
        invoicing = Invoicing(uow, clock)
        payments = Payments(uow, clock)
        starts = PaymentStarts(uow, clock, gateways)
        refunds = Refunds(uow, clock)
        balances = Balances(uow, clock)
        self.relay = Relay(
            uow,
            clock,
            sms=sms,
            email=email,
            renderer=renderer,
            gateways=gateways,
            policy=relay_policy,
            delivery=delivery,
            invoice_pdf=invoice_pdf,
            host_events=host_events,
            accounting=books,
            pay_links=pay_links,
        )

        self.register_school = registration.register_school
        self.add_teacher = registration.add_teacher
        self.add_student = registration.add_student
        self.add_booking_type = registration.add_booking_type
        self.change_school = changes.change_school
        onboarding = ConnectOnboarding(uow, clock, gateways)
        self.connect_stripe_account = onboarding.connect_stripe_account
        self.refresh_stripe_account = onboarding.refresh_stripe_account
        self.change_student = changes.change_student

        self.book_lesson = bookings.book
        self.confirm_booking = bookings.confirm
        self.cancel_booking = bookings.cancel
        self.complete_lesson = bookings.complete
        self.mark_no_show = bookings.mark_no_show
        self.reschedule_booking = bookings.reschedule

        self.sell_package = packages.sell_package

        self.draft_invoice = invoicing.draft_invoice
        self.issue_invoice = invoicing.issue_invoice
        self.send_invoice = invoicing.send_invoice
        self.void_invoice = invoicing.void_invoice

        self.start_invoice_payment = starts.start_invoice_payment
        self.start_deposit = starts.start_deposit
        self.record_manual_payment = payments.record_manual_payment
        # Cards on file: saved through the school's gateway, charged without the student.
        saved = SavedMethods(uow, clock, gateways)
        self.start_saving_card = saved.start_saving_card
        self.saved_payment_methods = saved.saved_payment_methods
        self.remove_payment_method = saved.remove_payment_method
        self.charge_customer = CustomerCharges(uow, clock, gateways).charge_customer
        # Payment plans on the card on file: a package in instalments, a monthly fee; the
        # worker bills what falls due and warns of cards that expire before they are charged.
        plans = PaymentPlans(uow, clock)
        self.start_instalment_plan = plans.start_instalment_plan
        self.start_recurring_fee = plans.start_recurring_fee
        self.cancel_plan = plans.cancel_plan
        self.payment_plan = plans.payment_plan
        self.payment_plans = plans.payment_plans
        self.charge_due_plans = plans.charge_due_plans
        self.notice_expiring_cards = CardExpiry(uow, clock, gateways).notice_expiring_cards
        # Deposits held for far-off lessons, charged to the saved card before the hold lapses.
        self.charge_lapsing_deposits = DepositHolds(uow, clock, gateways).charge_lapsing_deposits
        # Every provider callback on one road: stored in the inbox, applied inline or by the
        # worker as composition chose (apply_webhooks_inline).
        webhooks = InboundWebhooks(
            uow,
            clock,
            receivers if receivers is not None else GatewayReceivers(gateways),
            apply_inline=apply_webhooks_inline,
            # Inbox rows are claimed for as long as outbox rows (RELAY_LEASE_SECONDS).
            lease=(relay_policy or RelayPolicy()).lease,
            on_failure=webhook_failures,
            intake=inbox_intake,
        )
        self.webhooks = webhooks
        self.receive_webhook = webhooks.receive
        self.receive_payment_webhook = webhooks.receive_payment
        self.store_payment_webhook = webhooks.store_payment
        self.apply_inbox_event = webhooks.apply
        self.apply_inbox = webhooks.apply_waiting

        self.refund = refunds.refund
        self.refund_package = refunds.refund_package
        self.refund_overpayment = refunds.refund_overpayment
        review = PaymentReview(uow, clock)
        self.approve_held_payment = review.approve
        self.write_off_held_payment = review.write_off

        # Read only: invoices, payments, balances and disputes at a glance.
        self.money = MoneyView(self.uow, clock, self.redact)
        self.payer = PayerView(self.uow, pay_links)
        self.directory = Directory(
            self.uow
        )  # the schools and their students  # the pay link, the checkout, the landing page

        self.balance = balances.balance
        self.overdue_invoices = balances.overdue_invoices
        self.overpayments = balances.overpayments

        self.relay_outbox = self.relay.run_once
        self.retry_outbox_message = self.relay.retry_dead
        self.operations = Operations(
            uow, clock, retry_dead=self.relay.retry_dead, apply_event=webhooks.apply
        )
        self.send_reminders = Reminders(uow, clock).send_due
        # What the school's office must look at, mailed in one digest per school.
        alerts = StaffAlerts(
            uow, clock, operator_email=staff_alert_email, ops_base_url=ops_base_url
        )
        self.send_staff_alerts = alerts.send_digests
        self.send_teacher_agendas = Agendas(uow, clock).send_due
        self.announce = Announcements(uow, clock).announce
        # The host's welcome, verification and password-reset emails (or any template of its
        # own), through the same pipeline as every message.
        self.send_template = TemplateMessages(uow, clock, renderer).send_template
        message_webhooks = MessageWebhooks(uow, clock)
        self.apply_message_receipts = message_webhooks.receipts
        self.receive_inbound_sms = message_webhooks.inbound_sms

        sync = AccountingSync(uow, clock, books, retry=accounting_retry)
        self.sync_accounting = sync.run
        self.sync_all_accounting = sync.run_all
        self.reconcile_accounting = Reconciliation(uow, clock, books).queue_missing
        # A school's own PayPal account (the gateway registry uses it for its payments).
        accounts = SchoolAccounts(uow, unsealed=unsealed_secrets)
        self.set_school_paypal = accounts.set_school_paypal
        self.school_paypal = accounts.school_paypal
        # Each school's own Xero organisation or QuickBooks company (books per school).
        connections = BooksConnections(uow, accounting_consent, grants)
        self.school_books_authorize_url = connections.school_books_authorize_url
        self.connect_school_books = connections.connect_school_books
        export = AccountingExport(uow, clock, exporter)
        self.export_accounting = export.run
        self.export_all_accounting = export.run_all

        check_use_cases(self)
        check_use_cases(self.operations)
        check_use_cases(self.money)
        check_use_cases(self.payer)
        check_use_cases(self.directory)

        # The same use cases by capability (justdriving.facades): app.bookings.book is
        # app.book_lesson, argument checks included.
        self.bookings = facades.Bookings(self)
        self.invoices = facades.Invoices(self)
        self.payments = facades.Payments(self)
        self.refunds = facades.Refunds(self)
        self.messages = facades.Messages(self)
        self.accounting = facades.Accounting(self)
        self.ops = facades.Ops(self)


def _unchanged(text: str) -> str:
    return text
