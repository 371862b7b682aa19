"""SMS and email senders and the template renderer: what every implementation promises."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justdriving.domain.errors import NotFound, RecipientSuppressed
from justdriving.domain.messages import Channel, EmailMessage, SmsMessage
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.domain.schools import LANGUAGES, MessageType
from justdriving.ports.messaging import TemplateRenderer

if TYPE_CHECKING:
    from conftest import EmailBackend, SmsBackend

SOFIE_PHONE = PhoneNumber("+4520123456")
SOFIE_EMAIL = EmailAddress("sofie@example.dk")
CONTEXT = {
    "school_name": "Køreskolen Nord",
    "recipient_name": "Sofie",
    "teacher_name": "Tina",
    "lesson": "Køretime",
    "start": "2025-03-14 10:00",
    "amount": "500.00 DKK",
    "fee": "250.00 DKK",
    "invoice_number": "1042",
    "message": "We are closed on Friday.",
    "contact": "+45 70 20 30 40",
    "student_names": "Sofie Holm",
    "cancelled_by": "student",
    "verify_url": "https://app.example.dk/verify/k3J9x",
    "reset_url": "https://app.example.dk/reset/Qm81z",
    "subject": "Din teoriprøve",
    "day": "2025-03-14",
    "lesson_count": 1,
    "lessons": [
        {"time": "08:00", "end": "08:45", "lesson": "Køretime", "students": "Sofie", "pickup": ""}
    ],
    "brand": "visa",
    "last4": "4242",
    "expiry": "12/2034",
    "card_url": "https://app.example.dk/kort",
    "alert_count": 1,
    "alerts": [{"text": "A payment is held for review", "link": "https://b.example.dk/ops"}],
}
_PLACEHOLDER = re.compile(r"\$\{?[A-Za-z_]|\{\{|\{%")


def an_sms(reference: str = "msg_1") -> SmsMessage:
    return SmsMessage(body="Your lesson is tomorrow at 10:00.", reference=reference)


def an_email(to: EmailAddress = SOFIE_EMAIL, reference: str = "msg_1") -> EmailMessage:
    return EmailMessage(
        to=to, subject="Your lesson", text="See you tomorrow at 10:00.", reference=reference
    )


# SMS --------------------------------------------------------------------------------------


def test_sending_an_sms_returns_a_receipt_from_this_sender(sms: SmsBackend) -> None:
    receipt = sms.sender.send(SOFIE_PHONE, an_sms())
    assert receipt.provider == sms.sender.name
    assert receipt.provider_message_id


def test_each_sms_gets_its_own_provider_message_id(sms: SmsBackend) -> None:
    receipts = [sms.sender.send(SOFIE_PHONE, an_sms(f"msg_{n}")) for n in range(3)]
    assert len({r.provider_message_id for r in receipts}) == 3


def test_an_sms_to_a_number_that_opted_out_raises_recipient_suppressed(sms: SmsBackend) -> None:
    if sms.suppress is None:
        pytest.skip("this sender has no opt-out list")
    sms.suppress(SOFIE_PHONE)
    with pytest.raises(RecipientSuppressed) as raised:
        sms.sender.send(SOFIE_PHONE, an_sms())
    assert not raised.value.retryable
    assert sms.sender.send(PhoneNumber("+4520999999"), an_sms()).provider_message_id


# Email ------------------------------------------------------------------------------------


def test_sending_an_email_returns_a_receipt_from_this_sender(email: EmailBackend) -> None:
    receipt = email.sender.send(an_email())
    assert receipt.provider == email.sender.name
    assert receipt.provider_message_id


def test_each_email_gets_its_own_provider_message_id(email: EmailBackend) -> None:
    receipts = [email.sender.send(an_email(reference=f"msg_{n}")) for n in range(3)]
    assert len({r.provider_message_id for r in receipts}) == 3


def test_an_email_to_a_suppressed_address_raises_recipient_suppressed(
    email: EmailBackend,
) -> None:
    if email.suppress is None:
        pytest.skip("this sender has no suppression list")
    email.suppress(SOFIE_EMAIL)
    with pytest.raises(RecipientSuppressed):
        email.sender.send(an_email())
    assert email.sender.send(an_email(EmailAddress("other@example.dk"))).provider_message_id


# Templates --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("type", list(MessageType))
def test_every_message_type_renders_for_every_channel_and_language(
    renderer: TemplateRenderer, type: MessageType, channel: Channel, language: str
) -> None:
    rendered = renderer.render(type, channel, language, CONTEXT)
    assert rendered.subject.strip()
    assert "\n" not in rendered.subject
    assert rendered.text.strip()
    assert not _PLACEHOLDER.search(rendered.subject + rendered.text)


@pytest.mark.parametrize("type", list(MessageType))
def test_danish_and_english_say_it_differently(
    renderer: TemplateRenderer, type: MessageType
) -> None:
    danish = renderer.render(type, Channel.EMAIL, "da", CONTEXT)
    english = renderer.render(type, Channel.EMAIL, "en", CONTEXT)
    assert danish.text != english.text


def test_the_context_appears_in_the_rendered_text(renderer: TemplateRenderer) -> None:
    rendered = renderer.render(MessageType.INVOICE_ISSUED, Channel.EMAIL, "en", CONTEXT)
    assert "1042" in rendered.subject + rendered.text
    assert "500.00 DKK" in rendered.text


def test_a_language_without_templates_raises_not_found(renderer: TemplateRenderer) -> None:
    with pytest.raises(NotFound):
        renderer.render(MessageType.REMINDER, Channel.SMS, "fr", CONTEXT)


@settings(max_examples=50, deadline=None)
@given(
    name=st.text(alphabet=st.sampled_from("Bo ø\n\r\t\u2028"), max_size=12),
    type=st.sampled_from(list(MessageType)),
)
def test_a_subject_stays_one_line_whatever_the_context_holds(
    make_renderer: Callable[[], AbstractContextManager[Any]], name: str, type: MessageType
) -> None:
    context = {**CONTEXT, "school_name": name, "recipient_name": name, "invoice_number": name}
    with make_renderer() as renderer:
        rendered = renderer.render(type, Channel.EMAIL, "da", context)
    assert "\n" not in rendered.subject
    assert "\r" not in rendered.subject
