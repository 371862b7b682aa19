"""The Application's capability facades: `app.bookings`, `app.invoices`, `app.payments`,
`app.refunds`, `app.messages`, `app.accounting` and `app.ops` (with `app.webhooks`, the one
road in). Each names the verbs of one capability, and each verb is the very use case the flat
name on the Application is (`app.bookings.book is app.book_lesson`): the same argument checks,
the same unit of work, the same events. Typed from the Application, so an editor completes
them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from justdriving.application import Application

__all__ = ["Accounting", "Bookings", "Invoices", "Messages", "Ops", "Payments", "Refunds"]


class Bookings:
    """Lessons: book, confirm, move, cancel (with the school's fee policy), complete, no-show;
    packages of lessons."""

    def __init__(self, app: Application) -> None:
        self.book = app.book_lesson
        self.confirm = app.confirm_booking
        self.reschedule = app.reschedule_booking
        self.cancel = app.cancel_booking
        self.complete = app.complete_lesson
        self.mark_no_show = app.mark_no_show
        self.sell_package = app.sell_package


class Invoices:
    """Invoices from draft to paid or void, and what students owe."""

    def __init__(self, app: Application) -> None:
        self.draft = app.draft_invoice
        self.issue = app.issue_invoice
        self.send = app.send_invoice
        self.void = app.void_invoice
        self.balance = app.balance
        self.overdue = app.overdue_invoices
        self.overpayments = app.overpayments


class Payments:
    """Money in: checkouts and deposits, manual payments, cards on file and their charges,
    payment plans, held payments, a school's own payment accounts."""

    def __init__(self, app: Application) -> None:
        self.start_invoice_payment = app.start_invoice_payment
        self.start_deposit = app.start_deposit
        self.record_manual = app.record_manual_payment
        self.start_saving_card = app.start_saving_card
        self.saved_methods = app.saved_payment_methods
        self.remove_method = app.remove_payment_method
        self.charge_customer = app.charge_customer
        self.start_instalment_plan = app.start_instalment_plan
        self.start_recurring_fee = app.start_recurring_fee
        self.cancel_plan = app.cancel_plan
        self.plan = app.payment_plan
        self.plans = app.payment_plans
        self.approve_held = app.approve_held_payment
        self.write_off_held = app.write_off_held_payment
        self.connect_stripe_account = app.connect_stripe_account
        self.refresh_stripe_account = app.refresh_stripe_account
        self.set_school_paypal = app.set_school_paypal
        self.school_paypal = app.school_paypal


class Refunds:
    """Money back: a payment's refund, a package's unused lessons, an overpayment's excess."""

    def __init__(self, app: Application) -> None:
        self.refund = app.refund
        self.refund_package = app.refund_package
        self.refund_overpayment = app.refund_overpayment


class Messages:
    """Messages out and their answers: announcements, host templates, the scheduled reminders,
    digests and agendas, delivery receipts and inbound SMS."""

    def __init__(self, app: Application) -> None:
        self.announce = app.announce
        self.send_template = app.send_template
        self.send_reminders = app.send_reminders
        self.send_staff_alerts = app.send_staff_alerts
        self.send_teacher_agendas = app.send_teacher_agendas
        self.apply_receipts = app.apply_message_receipts
        self.receive_inbound_sms = app.receive_inbound_sms


class Accounting:
    """Each school's books: connecting them, the push and sync, reconciliation, CSV export."""

    def __init__(self, app: Application) -> None:
        self.authorize_url = app.school_books_authorize_url
        self.connect = app.connect_school_books
        self.sync = app.sync_accounting
        self.sync_all = app.sync_all_accounting
        self.reconcile = app.reconcile_accounting
        self.export = app.export_accounting
        self.export_all = app.export_all_accounting


class Ops:
    """What the people who run it do: the outbox relayed and retried, the inbox applied, and the
    read model the ops page shows (`app.operations`)."""

    def __init__(self, app: Application) -> None:
        self.relay_outbox = app.relay_outbox
        self.retry_outbox_message = app.retry_outbox_message
        self.apply_inbox = app.apply_inbox
        self.charge_due_plans = app.charge_due_plans
        self.notice_expiring_cards = app.notice_expiring_cards
        self.charge_lapsing_deposits = app.charge_lapsing_deposits
        self.view = app.operations
