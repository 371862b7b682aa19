"""SendGridEmailSender through the real sendgrid SDK against the local SendGrid simulator: the v3
mail send body it builds, sandbox mode, and every failure translated at the boundary."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import python_http_client.exceptions as http_errors
import sendgrid

from justdriving.adapters.email.mime import ListUnsubscribe
from justdriving.adapters.email.sendgrid.sender import SendGridEmailSender, retry_after
from justdriving.domain.errors import (
    ConfigurationError,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.messages import Attachment, EmailMessage
from justdriving.domain.people import EmailAddress
from justdriving.testing.sendgrid.simulator import SendGridSimulator

SCHOOL = "noreply@koreskolen.dk"
PDF = Attachment("faktura-1042.pdf", "application/pdf", b"%PDF-1.4 invoice 1042")


def an_email(**changes: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": EmailAddress("sofie@example.dk"),
        "subject": "Faktura 1042",
        "text": "Din faktura er vedhæftet.",
        "html": "<p>Din faktura er vedhæftet.</p>",
        "reference": "msg_invoice_1042",
        "attachments": (PDF,),
    }
    return EmailMessage(**{**fields, **changes})


@pytest.fixture
def simulator() -> Iterator[SendGridSimulator]:
    with SendGridSimulator() as running:
        yield running


def a_sender(simulator: SendGridSimulator, **options: Any) -> SendGridEmailSender:
    settings: dict[str, Any] = {
        "from_address": SCHOOL,
        "from_name": "Køreskolen Nord",
        "api_base": simulator.api_base,
        "timeout": 5.0,
    }
    return SendGridEmailSender(simulator.api_key, **{**settings, **options})


def test_the_receipt_id_is_sendgrids_x_message_id(simulator: SendGridSimulator) -> None:
    receipt = a_sender(simulator).send(an_email())
    assert receipt.provider == "sendgrid"
    assert receipt.provider_message_id == simulator.mails[0].message_id


def test_the_body_carries_text_before_html_the_pdf_and_our_reference(
    simulator: SendGridSimulator,
) -> None:
    a_sender(simulator).send(an_email(reply_to=EmailAddress("kontor@koreskolen.dk")))
    mail = simulator.mails[0]
    assert mail.to == "sofie@example.dk"
    assert mail.subject == "Faktura 1042"
    assert mail.content_types == ["text/plain", "text/html"]
    assert mail.attachment("faktura-1042.pdf") == PDF.content
    assert mail.custom_args == {"reference": "msg_invoice_1042"}
    assert mail.headers == {"X-Justdriving-Reference": "msg_invoice_1042"}
    assert mail.body["from"] == {"email": SCHOOL, "name": "Køreskolen Nord"}
    assert mail.body["reply_to"] == {"email": "kontor@koreskolen.dk"}
    assert "mail_settings" not in mail.body
    assert simulator.requests[0].authorization == f"Bearer {simulator.api_key}"


def test_a_school_s_own_name_is_the_sender_s_name(simulator: SendGridSimulator) -> None:
    a_sender(simulator).send(an_email(from_name="Køreskolen Syd"))
    assert simulator.mails[0].body["from"] == {"email": SCHOOL, "name": "Køreskolen Syd"}


def test_bulk_mail_carries_list_unsubscribe(simulator: SendGridSimulator) -> None:
    unsubscribe = ListUnsubscribe(url="https://koreskolen.dk/afmeld/{reference}")
    a_sender(simulator, unsubscribe=unsubscribe).send(an_email(bulk=True, attachments=()))
    headers = simulator.mails[0].headers
    assert headers["List-Unsubscribe"] == "<https://koreskolen.dk/afmeld/msg_invoice_1042>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_sandbox_mode_validates_without_sending(simulator: SendGridSimulator) -> None:
    receipt = a_sender(simulator, sandbox=True).send(an_email())
    assert simulator.mails == []
    assert simulator.sandboxed[0].body["mail_settings"] == {"sandbox_mode": {"enable": True}}
    assert receipt.provider_message_id.startswith("sandbox-")


# Failures -------------------------------------------------------------------------------


def test_a_wrong_key_is_a_configuration_error(simulator: SendGridSimulator) -> None:
    sender = SendGridEmailSender("SG.wrong", from_address=SCHOOL, api_base=simulator.api_base)
    with pytest.raises(ConfigurationError, match="MAIL_API_KEY"):
        sender.send(an_email())


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_a_configuration_error(
    simulator: SendGridSimulator, status: int
) -> None:
    simulator.fail_next(status)
    with pytest.raises(ConfigurationError):
        a_sender(simulator).send(an_email())


def test_the_simulator_holds_sendgrids_rule_of_text_before_html(
    simulator: SendGridSimulator,
) -> None:
    payload = a_sender(simulator).payload(an_email())
    payload["content"].reverse()
    client = sendgrid.SendGridAPIClient(simulator.api_key, host=simulator.api_base)
    with pytest.raises(http_errors.BadRequestsError) as raised:
        client.send(payload)
    assert "text/plain" in raised.value.body.decode()


def test_an_invalid_request_is_rejected_with_sendgrids_reason(
    simulator: SendGridSimulator,
) -> None:
    simulator.fail_next(400)
    with pytest.raises(ProviderRejected, match="simulated 400") as raised:
        a_sender(simulator).send(an_email())
    assert raised.value.provider_code == "400"
    assert not raised.value.retryable


def test_too_large_is_rejected(simulator: SendGridSimulator) -> None:
    simulator.fail_next(413)
    with pytest.raises(ProviderRejected):
        a_sender(simulator).send(an_email())


def test_a_rate_limit_says_when_to_retry(simulator: SendGridSimulator) -> None:
    simulator.fail_next(429, retry_after=12)
    with pytest.raises(ProviderUnavailable) as raised:
        a_sender(simulator).send(an_email())
    assert raised.value.retry_after == 12
    assert not raised.value.possibly_done
    assert simulator.mails == []


def test_sendgrids_rate_limit_reset_header_gives_the_wait_too() -> None:
    now = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    headers = {"X-RateLimit-Reset": str(int(now.timestamp()) + 40)}
    assert retry_after(headers, now) == 40
    assert retry_after({"Retry-After": "soon"}, now) is None
    assert retry_after({}, now) is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_may_have_sent_it(simulator: SendGridSimulator, status: int) -> None:
    simulator.fail_next(status)
    with pytest.raises(ProviderUnavailable) as raised:
        a_sender(simulator).send(an_email())
    assert raised.value.possibly_done


def test_a_lost_answer_may_have_sent_it(simulator: SendGridSimulator) -> None:
    simulator.lose_next_response()
    with pytest.raises(ProviderUnavailable) as raised:
        a_sender(simulator).send(an_email())
    assert raised.value.possibly_done
    assert len(simulator.mails) == 1  # it was, in fact


def test_no_connection_is_unavailable_and_certainly_not_sent() -> None:
    with SendGridSimulator() as simulator:
        sender = a_sender(simulator)
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(an_email())
    assert not raised.value.possibly_done


def test_an_unsafe_message_is_rejected_before_calling_sendgrid(
    simulator: SendGridSimulator,
) -> None:
    with pytest.raises(ProviderRejected, match="address"):
        a_sender(simulator).send(an_email(to=EmailAddress("sofie@example.dk>,x")))
    assert simulator.requests == []


@pytest.mark.parametrize(
    ("key", "address"), [("", SCHOOL), ("SG.key", "not an address"), ("SG.key", "a@b.dk\r\n")]
)
def test_missing_settings_are_a_configuration_error(key: str, address: str) -> None:
    with pytest.raises(ConfigurationError):
        SendGridEmailSender(key, from_address=address)
