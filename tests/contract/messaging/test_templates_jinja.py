"""The Jinja2 message templates: every message type in Danish and English, for SMS and email."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from justdriving.adapters.templates import JinjaTemplateRenderer
from justdriving.domain.errors import InvalidInput, NotFound
from justdriving.domain.messages import Channel
from justdriving.domain.schools import LANGUAGES, Branding, MessageType
from justdriving.domain.segments import SmsEncoding, segments

BOOKING = {"lesson": "Køretime 45 min", "teacher_name": "Tina Jensen", "start": "2025-03-14 10:00"}
TEACHING = {"lesson": BOOKING["lesson"], "student_names": "Anna Holm", "start": BOOKING["start"]}
INVOICE = {"invoice_number": "2025-1042", "amount": "1.250,00 kr."}
# What each message type cannot do without, besides school_name and recipient_name.
REQUIRED: dict[MessageType, dict[str, str]] = {
    MessageType.BOOKING_CONFIRMATION: BOOKING,
    MessageType.REMINDER: BOOKING,
    MessageType.BOOKING_CHANGE: BOOKING,
    MessageType.CANCELLATION: {"lesson": BOOKING["lesson"], "start": BOOKING["start"]},
    MessageType.PAYMENT_RECEIPT: {"amount": "500,00 kr."},
    MessageType.INVOICE_ISSUED: INVOICE,
    MessageType.OVERDUE_REMINDER: INVOICE,
    MessageType.PAYMENT_ACTION_REQUIRED: INVOICE,
    MessageType.PAYMENT_DECLINED: INVOICE,
    MessageType.CARD_EXPIRING: {"brand": "visa", "last4": "4242", "expiry": "12/2026"},
    MessageType.REFUND_CONFIRMATION: {"amount": "500,00 kr."},
    MessageType.ANNOUNCEMENT: {"message": "Vi holder lukket fredag den 18. april."},
    MessageType.HELP_REPLY: {},
    MessageType.TEACHER_BOOKING: TEACHING,
    MessageType.TEACHER_CHANGE: TEACHING,
    MessageType.TEACHER_CANCELLATION: {**TEACHING, "cancelled_by": "student"},
    MessageType.TEACHER_NO_SHOW: TEACHING,
    MessageType.TEACHER_ANNOUNCEMENT: {"message": "Personalemøde fredag kl. 16."},
    MessageType.TEACHER_AGENDA: {
        "day": "2025-03-14",
        "lesson_count": 2,
        "lessons": [
            {
                "time": "08:00",
                "end": "08:45",
                "lesson": "Køretime",
                "students": "Anna Holm",
                "pickup": "Nørregade 1",
            },
            {
                "time": "10:00",
                "end": "10:45",
                "lesson": "Køretime",
                "students": "Bo Berg",
                "pickup": "",
            },
        ],
    },
    MessageType.WELCOME: {},
    MessageType.EMAIL_VERIFICATION: {"verify_url": "https://app.example.dk/verify/k3J9x"},
    MessageType.PASSWORD_RESET: {"reset_url": "https://app.example.dk/reset/Qm81z"},
    MessageType.NOTICE: {"subject": "Din teoriprøve", "message": "Husk billedlegitimation."},
    MessageType.STAFF_ALERT: {
        "alert_count": 2,
        "alerts": [
            {"text": "Betaling på 500,00 kr. fra Anna Holm afventer gennemsyn", "link": "/ops"},
            {"text": "Bo Berg kan ikke booke", "link": "https://b.example.dk/ops/invoices/i1"},
        ],
    },
}
# What the use cases may add: booking and payment ids, a fee, a due date, a pay link ...
OPTIONAL = {
    "booking_id": "bkg_01HZX3",
    "payment_id": "pay_01HZX3",
    "refund_id": "ref_01HZX3",
    "invoice_id": "inv_01HZX3",
    "fee": "250,00 kr.",
    "due": "28.03.2025",
    "pay_url": "https://pay.example.dk/i/inv_01HZX3K9",
    "previous_start": "2025-03-13 09:00",
    "contact": "+45 70 20 30 40",
    "pdf_attached": True,
    "login_url": "https://app.example.dk/login",
    "expires": "60 minutter",
}
PEOPLE = {"school_name": "Køreskolen Nord", "recipient_name": "Sofie Hansen"}
# Announcements and notices are as long as the school or the host writes them.
_FREE_TEXT = {MessageType.ANNOUNCEMENT, MessageType.TEACHER_ANNOUNCEMENT, MessageType.NOTICE}
_LEFTOVER = re.compile(r"\{\{|\{%|\}\}|%\}|\bNone\b|Undefined")


def context_for(type: MessageType, **extra: Any) -> dict[str, Any]:
    return {**PEOPLE, **REQUIRED[type], **OPTIONAL, **extra}


@pytest.fixture(scope="module")
def renderer() -> JinjaTemplateRenderer:
    return JinjaTemplateRenderer()


ALL = [
    pytest.param(type, channel, language, id=f"{type}-{channel}-{language}")
    for type in MessageType
    for channel in Channel
    for language in sorted(LANGUAGES)
]


@pytest.mark.parametrize(("type", "channel", "language"), ALL)
def test_every_message_type_renders_for_every_channel_and_language(
    renderer: JinjaTemplateRenderer, type: MessageType, channel: Channel, language: str
) -> None:
    rendered = renderer.render(type, channel, language, context_for(type))
    assert rendered.subject.strip()
    assert "\n" not in rendered.subject
    assert rendered.text.strip()
    assert not _LEFTOVER.search(rendered.subject + rendered.text + (rendered.html or ""))
    if channel is Channel.SMS:
        assert rendered.html is None
    else:
        assert rendered.html is not None
        assert f'<html lang="{language}">' in rendered.html
        assert "Køreskolen Nord" in rendered.html


@pytest.mark.parametrize(("type", "channel", "language"), ALL)
def test_only_the_required_keys_are_needed(
    renderer: JinjaTemplateRenderer, type: MessageType, channel: Channel, language: str
) -> None:
    rendered = renderer.render(type, channel, language, {**PEOPLE, **REQUIRED[type]})
    assert rendered.text.strip()
    assert not _LEFTOVER.search(rendered.subject + rendered.text + (rendered.html or ""))


@pytest.mark.parametrize(
    ("type", "key"),
    [(type, key) for type, keys in REQUIRED.items() for key in (*keys, *PEOPLE)],
)
def test_a_missing_required_key_raises_invalid_input_naming_it(
    renderer: JinjaTemplateRenderer, type: MessageType, key: str
) -> None:
    context = context_for(type)
    del context[key]
    with pytest.raises(InvalidInput, match=rf"'{key}' is undefined") as raised:
        renderer.render(type, Channel.EMAIL, "da", context)
    assert type.value in str(raised.value)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("type", [t for t in MessageType if t not in _FREE_TEXT])
def test_an_sms_fits_one_gsm7_part_with_realistic_values(
    renderer: JinjaTemplateRenderer, type: MessageType, language: str
) -> None:
    body = renderer.render(type, Channel.SMS, language, context_for(type)).text
    count = segments(body)
    assert count.encoding is SmsEncoding.GSM7, body
    assert count.parts == 1, f"{count.units} units: {body}"


@pytest.mark.parametrize("type", list(MessageType))
def test_html_escapes_the_context_and_text_does_not(
    renderer: JinjaTemplateRenderer, type: MessageType
) -> None:
    name = "<script>alert(1)</script> & Co"
    context = context_for(type, recipient_name=name, school_name=name)
    rendered = renderer.render(type, Channel.EMAIL, "en", context)
    assert rendered.html is not None
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in rendered.html
    assert name in rendered.text


@pytest.mark.parametrize("type", list(MessageType))
def test_danish_and_english_say_it_differently(
    renderer: JinjaTemplateRenderer, type: MessageType
) -> None:
    danish = renderer.render(type, Channel.EMAIL, "da", context_for(type))
    english = renderer.render(type, Channel.EMAIL, "en", context_for(type))
    assert danish.text != english.text
    assert danish.html != english.html


def test_a_subject_is_one_line_whatever_the_context_holds(
    renderer: JinjaTemplateRenderer,
) -> None:
    context = context_for(MessageType.INVOICE_ISSUED, school_name="Køre\nskolen\r\u2028Nord")
    rendered = renderer.render(MessageType.INVOICE_ISSUED, Channel.EMAIL, "da", context)
    assert rendered.subject == "Faktura 2025-1042 fra Køre skolen Nord"


def test_an_overdue_reminder_carries_the_pay_link_when_there_is_one(
    renderer: JinjaTemplateRenderer,
) -> None:
    type = MessageType.OVERDUE_REMINDER
    url = OPTIONAL["pay_url"]
    with_link = renderer.render(type, Channel.EMAIL, "da", context_for(type))
    assert with_link.html is not None
    assert f'href="{url}"' in with_link.html
    assert url in with_link.text
    assert url in renderer.render(type, Channel.SMS, "da", context_for(type)).text
    without = renderer.render(type, Channel.EMAIL, "da", {**PEOPLE, **REQUIRED[type]})
    assert "href=" not in (without.html or "")
    assert "Betal her" not in without.text


def test_a_cancellation_names_the_fee_or_says_it_is_free(renderer: JinjaTemplateRenderer) -> None:
    type = MessageType.CANCELLATION
    charged = renderer.render(type, Channel.EMAIL, "en", context_for(type))
    free = renderer.render(type, Channel.EMAIL, "en", context_for(type, fee=""))
    assert "A cancellation fee of 250,00 kr. applies" in charged.text
    assert "no charge" in free.text
    assert "fee" not in renderer.render(type, Channel.SMS, "en", context_for(type, fee="")).text


def test_an_announcement_keeps_its_paragraphs(renderer: JinjaTemplateRenderer) -> None:
    message = "Vi holder lukket fredag.\n\nGod påske!\nHilsen <b>Tina</b>"
    context = context_for(MessageType.ANNOUNCEMENT, message=message)
    rendered = renderer.render(MessageType.ANNOUNCEMENT, Channel.EMAIL, "da", context)
    assert rendered.subject == "Nyt fra Køreskolen Nord"
    assert message in rendered.text
    assert rendered.html is not None
    assert ">Vi holder lukket fredag.</p>" in rendered.html
    assert ">God påske!<br>\nHilsen &lt;b&gt;Tina&lt;/b&gt;</p>" in rendered.html


def test_an_announcement_may_bring_its_own_title(renderer: JinjaTemplateRenderer) -> None:
    context = context_for(MessageType.ANNOUNCEMENT, title="Ny teoriholdstart")
    rendered = renderer.render(MessageType.ANNOUNCEMENT, Channel.EMAIL, "da", context)
    assert rendered.subject == "Ny teoriholdstart"


# Branding ---------------------------------------------------------------------------------

BRANDED = Branding(
    colour="#c8102e", logo_url="https://cdn.example.dk/nord.png", footer="Nørregade 1\nAalborg"
)


def _html(renderer: JinjaTemplateRenderer, **extra: Any) -> str:
    context = context_for(MessageType.REMINDER, **extra)
    html = renderer.render(MessageType.REMINDER, Channel.EMAIL, "da", context).html
    assert html is not None
    return html


def test_the_html_wears_the_schools_colour_logo_and_footer(
    renderer: JinjaTemplateRenderer,
) -> None:
    html = _html(renderer, branding=BRANDED)
    assert "background-color:#c8102e;color:#ffffff" in html
    assert '<img src="https://cdn.example.dk/nord.png" alt="Køreskolen Nord"' in html
    assert "Nørregade 1<br>\nAalborg" in html
    text = renderer.render(
        MessageType.REMINDER,
        Channel.EMAIL,
        "da",
        context_for(MessageType.REMINDER, branding=BRANDED),
    ).text
    assert text.endswith("--\nNørregade 1\nAalborg")


def test_branding_stored_as_a_mapping_is_accepted(renderer: JinjaTemplateRenderer) -> None:
    html = _html(renderer, branding={"colour": "#ffcc00", "footer": "CVR 12345678"})
    assert "background-color:#ffcc00;color:#1f2328" in html  # dark text on a light colour
    assert "CVR 12345678" in html
    assert "<img" not in html


def test_unsafe_branding_falls_back_to_defaults(renderer: JinjaTemplateRenderer) -> None:
    odd = Branding(colour="red;background:url(https://x)", logo_url="javascript:alert(1)")
    html = _html(renderer, branding=odd)
    assert f"background-color:{Branding().colour};" in html
    assert "javascript:" not in html
    assert "url(" not in html


def test_without_branding_the_default_is_used(renderer: JinjaTemplateRenderer) -> None:
    assert f"background-color:{Branding().colour};" in _html(renderer)


def test_branding_for_looks_the_school_up_when_the_context_has_none() -> None:
    asked: list[str] = []

    def branding_for(school_id: str) -> Branding:
        asked.append(school_id)
        return BRANDED

    renderer = JinjaTemplateRenderer(branding_for=branding_for)
    html = _html(renderer, school_id="sch_nord")
    assert asked == ["sch_nord"]
    assert "#c8102e" in html
    assert "#c8102e" not in _html(renderer, school_id="sch_nord", branding=Branding())


# Finding templates ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "de", "../da", "da/../en", "", "DA"])
def test_a_language_without_templates_raises_not_found(
    renderer: JinjaTemplateRenderer, language: str
) -> None:
    with pytest.raises(NotFound):
        renderer.render(
            MessageType.REMINDER, Channel.SMS, language, context_for(MessageType.REMINDER)
        )


def test_an_override_folder_rewords_one_message_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "da").mkdir()
    (tmp_path / "da" / "reminder.sms.j2").write_text("Husk {{ lesson }} {{ start }}!\n")
    renderer = JinjaTemplateRenderer(overrides=[tmp_path])
    type = MessageType.REMINDER
    assert renderer.render(type, Channel.SMS, "da", context_for(type)).text == (
        "Husk Køretime 45 min 2025-03-14 10:00!"
    )
    assert "Påmindelse" in renderer.render(type, Channel.EMAIL, "da", context_for(type)).subject


def test_an_override_folder_can_add_a_language(tmp_path: Path) -> None:
    (tmp_path / "sv").mkdir()
    (tmp_path / "sv" / "reminder.subject.j2").write_text("Påminnelse: {{ lesson }}\n")
    (tmp_path / "sv" / "reminder.sms.j2").write_text("Påminnelse: {{ lesson }} {{ start }}\n")
    renderer = JinjaTemplateRenderer(overrides=[tmp_path])
    context = context_for(MessageType.REMINDER)
    rendered = renderer.render(MessageType.REMINDER, Channel.SMS, "sv", context)
    assert rendered.subject == "Påminnelse: Køretime 45 min"
    with pytest.raises(NotFound):
        renderer.render(MessageType.REMINDER, Channel.EMAIL, "sv", context)
