"""MailgunEmailSender (httpx) against the local Mailgun simulator: the form it posts, the
attachment as a file, and every failure translated at the boundary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from justdriving.adapters.email.mailgun.sender import MailgunEmailSender
from justdriving.adapters.email.mime import ListUnsubscribe
from justdriving.domain.errors import (
    ConfigurationError,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.messages import Attachment, EmailMessage
from justdriving.domain.people import EmailAddress
from justdriving.testing.exchanges import recording
from justdriving.testing.mailgun.simulator import MailgunSimulator

SCHOOL = "noreply@koreskolen.dk"
PDF = Attachment("faktura-1042.pdf", "application/pdf", b"%PDF-1.4 invoice 1042 \x00\xff")


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
def simulator() -> Iterator[MailgunSimulator]:
    with MailgunSimulator() as running:
        yield running


@pytest.fixture
def sender(simulator: MailgunSimulator) -> Iterator[MailgunEmailSender]:
    sender = a_sender(simulator)
    yield sender
    sender.close()


def a_sender(simulator: MailgunSimulator, **options: Any) -> MailgunEmailSender:
    settings: dict[str, Any] = {
        "api_base": simulator.api_base,
        "from_address": SCHOOL,
        "from_name": "Køreskolen Nord",
        "timeout": 5.0,
    }
    return MailgunEmailSender(simulator.api_key, simulator.domain, **{**settings, **options})


def test_the_receipt_id_is_mailguns_id_without_brackets(
    simulator: MailgunSimulator, sender: MailgunEmailSender
) -> None:
    receipt = sender.send(an_email())
    assert receipt.provider == "mailgun"
    assert receipt.provider_message_id == simulator.mails[0].message_id
    assert not receipt.provider_message_id.startswith("<")


def test_the_form_carries_both_parts_the_pdf_and_our_reference(
    simulator: MailgunSimulator, sender: MailgunEmailSender
) -> None:
    sender.send(an_email(reply_to=EmailAddress("kontor@koreskolen.dk")))
    mail = simulator.mails[0]
    assert mail.field("from") == "Køreskolen Nord <noreply@koreskolen.dk>"
    assert mail.to == "sofie@example.dk"
    assert mail.field("text") == "Din faktura er vedhæftet."
    assert mail.field("html") == "<p>Din faktura er vedhæftet.</p>"
    assert [(a.filename, a.content_type, a.content) for a in mail.attachments] == [
        ("faktura-1042.pdf", "application/pdf", PDF.content)
    ]
    assert mail.user_variables == {"reference": "msg_invoice_1042"}
    assert mail.tags == ["transactional"]
    assert mail.headers == {
        "Reply-To": "kontor@koreskolen.dk",
        "X-Justdriving-Reference": "msg_invoice_1042",
    }


def test_a_school_s_own_name_is_the_sender_s_name(
    simulator: MailgunSimulator, sender: MailgunEmailSender
) -> None:
    sender.send(an_email(from_name="Køreskolen Syd"))
    assert simulator.mails[0].field("from") == "Køreskolen Syd <noreply@koreskolen.dk>"


def test_a_message_without_attachments_is_sent_too(
    simulator: MailgunSimulator, sender: MailgunEmailSender
) -> None:
    with recording() as exchanges:
        sender.send(an_email(attachments=(), html=None))
    assert simulator.mails[0].field("html") is None
    assert simulator.mails[0].attachments == ()
    # multipart/form-data even without a file: the one encoding Mailgun's spec lists.
    [exchange] = exchanges
    assert exchange.request_headers["content-type"].startswith("multipart/form-data; boundary=")


def test_bulk_mail_is_tagged_and_carries_list_unsubscribe(simulator: MailgunSimulator) -> None:
    unsubscribe = ListUnsubscribe(url="https://koreskolen.dk/afmeld/{reference}")
    a_sender(simulator, unsubscribe=unsubscribe).send(an_email(bulk=True))
    mail = simulator.mails[0]
    assert mail.tags == ["bulk"]
    assert mail.headers["List-Unsubscribe"] == "<https://koreskolen.dk/afmeld/msg_invoice_1042>"
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# Failures -------------------------------------------------------------------------------


def test_a_wrong_key_is_a_configuration_error(simulator: MailgunSimulator) -> None:
    sender = MailgunEmailSender(
        "key-wrong", simulator.domain, api_base=simulator.api_base, from_address=SCHOOL
    )
    with pytest.raises(ConfigurationError, match="MAIL_API_KEY"):
        sender.send(an_email())


def test_an_unknown_domain_is_a_configuration_error(simulator: MailgunSimulator) -> None:
    sender = MailgunEmailSender(
        simulator.api_key, "mg.other.dk", api_base=simulator.api_base, from_address=SCHOOL
    )
    with pytest.raises(ConfigurationError, match="domain"):
        sender.send(an_email())


@pytest.mark.parametrize("status", [400, 413])
def test_an_invalid_request_is_rejected(
    simulator: MailgunSimulator, sender: MailgunEmailSender, status: int
) -> None:
    simulator.fail_next(status)
    with pytest.raises(ProviderRejected, match="simulated") as raised:
        sender.send(an_email())
    assert raised.value.provider_code == str(status)


def test_a_rate_limit_says_when_to_retry(
    simulator: MailgunSimulator, sender: MailgunEmailSender
) -> None:
    simulator.fail_next(429, retry_after=30)
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(an_email())
    assert raised.value.retry_after == 30
    assert not raised.value.possibly_done


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_may_have_sent_it(
    simulator: MailgunSimulator, sender: MailgunEmailSender, status: int
) -> None:
    simulator.fail_next(status)
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(an_email())
    assert raised.value.possibly_done


def test_a_lost_answer_may_have_sent_it(
    simulator: MailgunSimulator, sender: MailgunEmailSender
) -> None:
    simulator.lose_next_response()
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(an_email())
    assert raised.value.possibly_done
    assert len(simulator.mails) == 1


def test_no_connection_is_unavailable_and_certainly_not_sent() -> None:
    with MailgunSimulator() as simulator:
        sender = a_sender(simulator)
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(an_email())
    assert not raised.value.possibly_done
    sender.close()


def test_an_unsafe_message_is_rejected_before_calling_mailgun(
    simulator: MailgunSimulator, sender: MailgunEmailSender
) -> None:
    with pytest.raises(ProviderRejected):
        sender.send(an_email(reference="msg\r\nh:Bcc: boss@example.dk"))
    assert simulator.statuses == []


@pytest.mark.parametrize(
    ("key", "domain", "address"),
    [
        ("", "mg.koreskolen.dk", SCHOOL),
        ("key-1", "", SCHOOL),
        ("key-1", "mg.koreskolen.dk/../x", SCHOOL),
        ("key-1", "mg.koreskolen.dk", "no address"),
    ],
)
def test_missing_settings_are_a_configuration_error(key: str, domain: str, address: str) -> None:
    with pytest.raises(ConfigurationError):
        MailgunEmailSender(key, domain, from_address=address)


@pytest.mark.off_spec("urlencoded forms that break Mailgun's rules", parts=("request",))
def test_the_simulator_holds_mailguns_rules(simulator: MailgunSimulator) -> None:
    with httpx.Client(base_url=simulator.api_base, auth=("api", simulator.api_key)) as client:
        path = f"/v3/{simulator.domain}/messages"
        no_body = client.post(path, data={"from": SCHOOL, "to": "a@b.dk", "subject": "x"})
        bad_to = client.post(
            path, data={"from": SCHOOL, "to": "nobody", "subject": "x", "text": "y"}
        )
    assert no_body.status_code == 400
    assert "text" in no_body.json()["message"]
    assert bad_to.status_code == 400
