"""SendGridEmailSender against SendGrid itself, in sandbox mode: SendGrid validates the whole
request (key, verified sender, body) and sends nothing. Runs only with credentials.

    SENDGRID_API_KEY=SG.… SENDGRID_FROM_ADDRESS=<a verified sender> pytest -m sandbox

Event Webhook deliveries need a public endpoint, so they are covered offline by the simulator
and SendGrid's own signature vector (tests/contract/test_email_sendgrid_webhooks.py).
"""

from __future__ import annotations

import os

import pytest

from justdriving.adapters.email.mime import ListUnsubscribe
from justdriving.adapters.email.sendgrid.sender import SendGridEmailSender
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.messages import Attachment, EmailMessage
from justdriving.domain.people import EmailAddress

API_KEY = os.environ.get("SENDGRID_API_KEY", "")
FROM_ADDRESS = os.environ.get("SENDGRID_FROM_ADDRESS", "")

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(not API_KEY, reason="SENDGRID_API_KEY is not set"),
]


def an_invoice_email(bulk: bool = False) -> EmailMessage:
    return EmailMessage(
        to=EmailAddress("sofie@example.com"),
        subject="Faktura 1042 fra Køreskolen Nord",
        text="Din faktura er vedhæftet.",
        html="<p>Din faktura er vedhæftet.</p>",
        reference="sandbox_msg_1042",
        attachments=(Attachment("faktura-1042.pdf", "application/pdf", b"%PDF-1.4 sandbox"),),
        bulk=bulk,
    )


def a_sender(api_key: str = API_KEY) -> SendGridEmailSender:
    if not FROM_ADDRESS:
        pytest.skip("SENDGRID_FROM_ADDRESS (a verified sender) is not set")
    return SendGridEmailSender(
        api_key,
        from_address=FROM_ADDRESS,
        from_name="justdriving sandbox",
        sandbox=True,
        unsubscribe=ListUnsubscribe(url="https://example.com/unsubscribe/{reference}"),
    )


def test_sendgrid_accepts_the_invoice_email_in_sandbox_mode() -> None:
    receipt = a_sender().send(an_invoice_email())
    assert receipt.provider == "sendgrid"
    assert receipt.provider_message_id


def test_sendgrid_accepts_bulk_mail_with_list_unsubscribe_in_sandbox_mode() -> None:
    assert a_sender().send(an_invoice_email(bulk=True)).provider_message_id


def test_a_wrong_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="MAIL_API_KEY"):
        a_sender("SG.not-a-real-key.at-all").send(an_invoice_email())
