"""The MIME every email sender builds or checks: structure, identity headers, List-Unsubscribe,
and no way to inject a header through an address, a name, a filename or a reference."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage as MimeMessage
from typing import Any

import pytest

from justdriving.adapters.email.mime import (
    ListUnsubscribe,
    Mailbox,
    check_address,
    compose,
    message_id_of,
)
from justdriving.domain.errors import ConfigurationError, InvalidEmailAddress, InvalidInput
from justdriving.domain.messages import Attachment, EmailMessage
from justdriving.domain.people import EmailAddress

AT = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
SCHOOL = Mailbox("noreply@koreskolen.dk", "Køreskolen Nord")
PDF = Attachment("faktura-1042.pdf", "application/pdf", b"%PDF-1.4 invoice")
UNSUBSCRIBE = ListUnsubscribe(url="https://koreskolen.dk/afmeld?ref={reference}")


def a_message(**changes: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": EmailAddress("sofie@example.dk"),
        "subject": "Din køretime",
        "text": "Vi ses i morgen kl. 10.",
        "reference": "msg_1",
    }
    return EmailMessage(**{**fields, **changes})


def on_the_wire(mime: MimeMessage) -> MimeMessage:
    """Serialised as SMTP sends it and parsed back, as a mail client would."""
    parsed = email.message_from_bytes(mime.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert isinstance(parsed, MimeMessage)
    return parsed


def test_text_only_is_a_single_text_plain_part() -> None:
    mime = on_the_wire(compose(a_message(), SCHOOL, at=AT))
    assert mime.get_content_type() == "text/plain"
    assert mime.get_content().strip() == "Vi ses i morgen kl. 10."


def test_html_comes_after_text_in_multipart_alternative() -> None:
    mime = on_the_wire(compose(a_message(html="<p>Vi ses</p>"), SCHOOL, at=AT))
    assert mime.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mime.iter_parts()] == ["text/plain", "text/html"]


def test_attachments_wrap_the_alternative_in_multipart_mixed() -> None:
    message = a_message(html="<p>Faktura</p>", attachments=(PDF,))
    mime = on_the_wire(compose(message, SCHOOL, at=AT))
    assert mime.get_content_type() == "multipart/mixed"
    body, pdf = mime.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert (pdf.get_filename(), pdf.get_content()) == ("faktura-1042.pdf", PDF.content)
    assert "MIME-Version" not in pdf  # only once, at the top


def test_identity_headers() -> None:
    built = compose(a_message(reply_to=EmailAddress("kontor@koreskolen.dk")), SCHOOL, at=AT)
    mime = on_the_wire(built)
    assert mime["From"].addresses[0].display_name == "Køreskolen Nord"
    assert mime["From"].addresses[0].addr_spec == "noreply@koreskolen.dk"
    assert str(mime["Reply-To"]) == "kontor@koreskolen.dk"
    assert mime["Date"].datetime == AT
    assert mime["X-Justdriving-Reference"] == "msg_1"
    assert mime["Message-ID"].endswith("@koreskolen.dk>")
    assert message_id_of(built) == mime["Message-ID"][1:-1]


def test_a_message_from_a_school_carries_the_school_s_name_on_the_platform_s_address() -> None:
    mime = on_the_wire(compose(a_message(from_name="Køreskolen Syd"), SCHOOL, at=AT))
    assert mime["From"].addresses[0].display_name == "Køreskolen Syd"
    assert mime["From"].addresses[0].addr_spec == "noreply@koreskolen.dk"


def test_the_message_id_domain_can_be_configured() -> None:
    mime = compose(a_message(), SCHOOL, at=AT, message_id_domain="mail.koreskolen.dk")
    assert message_id_of(mime).endswith("@mail.koreskolen.dk")


def test_each_message_gets_its_own_message_id() -> None:
    ids = {message_id_of(compose(a_message(), SCHOOL, at=AT)) for _ in range(20)}
    assert len(ids) == 20


def test_bulk_mail_has_one_click_list_unsubscribe_with_our_reference() -> None:
    mime = on_the_wire(compose(a_message(bulk=True), SCHOOL, at=AT, unsubscribe=UNSUBSCRIBE))
    assert mime["List-Unsubscribe"] == "<https://koreskolen.dk/afmeld?ref=msg_1>"
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_mailto_target_alone_offers_no_one_click() -> None:
    unsubscribe = ListUnsubscribe(mailto="afmeld@koreskolen.dk")
    headers = unsubscribe.headers("msg 1/2")
    assert headers == {
        "List-Unsubscribe": "<mailto:afmeld@koreskolen.dk?subject=unsubscribe%20msg%201%2F2>"
    }


def test_transactional_mail_has_no_list_unsubscribe() -> None:
    mime = compose(a_message(), SCHOOL, at=AT, unsubscribe=UNSUBSCRIBE)
    assert "List-Unsubscribe" not in mime


def test_bulk_mail_without_an_unsubscribe_target_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        compose(a_message(bulk=True), SCHOOL, at=AT)


@pytest.mark.parametrize(
    ("url", "mailto"),
    [
        (None, None),
        ("http://koreskolen.dk/afmeld", None),
        ("https://koreskolen.dk/af meld", None),
        ("https://koreskolen.dk/>, <https://evil.example", None),
        (None, "afmeld@koreskolen.dk>"),
    ],
)
def test_an_unusable_list_unsubscribe_is_refused(url: str | None, mailto: str | None) -> None:
    with pytest.raises(ConfigurationError):
        ListUnsubscribe(url=url, mailto=mailto)


# Header injection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "sofie@example.dk>,x",
        "sofie@example.dk\r\nBcc: boss@example.dk",
        "sofie@example.dk\nBcc:x",
        "Sofie <sofie@example.dk>",
        "sofie@example.dk,boss@example.dk",
        "so fie@example.dk",
        "sofie@example.dk;x",
        '"sofie"@example.dk',
        "ø@example.dk",
        "@example.dk",
        "sofie@",
    ],
)
def test_an_address_must_be_one_plain_addr_spec(address: str) -> None:
    with pytest.raises(InvalidEmailAddress):
        check_address(address)


def test_a_non_ascii_domain_is_idna_encoded() -> None:
    assert check_address("sofie@æblehaven.dk").addr_spec == "sofie@xn--blehaven-i0a.dk"


def test_a_recipient_the_domain_let_through_is_still_refused_here() -> None:
    with pytest.raises(InvalidInput):
        compose(a_message(to=EmailAddress("sofie@example.dk>,x")), SCHOOL, at=AT)


@pytest.mark.parametrize(
    "changes",
    [
        {"attachments": (Attachment("a\r\nX-Evil: 1.pdf", "application/pdf", b"x"),)},
        {"attachments": (Attachment("a.pdf", "application/pdf\r\nX-Evil: 1", b"x"),)},
        {"attachments": (Attachment("a.pdf", "pdf", b"x"),)},
        {"reference": "msg_1\r\nBcc: boss@example.dk"},
        {"subject": "Hej\x0bBcc: boss@example.dk"},
    ],
)
def test_no_value_can_carry_a_line_break_into_a_header(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        compose(a_message(**changes), SCHOOL, at=AT)


@pytest.mark.parametrize(
    ("address", "name"),
    [("noreply@koreskolen.dk\r\nBcc: x@y.dk", None), ("noreply@koreskolen.dk", "Nord\r\nBcc: x")],
)
def test_a_bad_sender_is_a_configuration_error(address: str, name: str | None) -> None:
    with pytest.raises(ConfigurationError, match="MAIL_FROM"):
        Mailbox.configured(address, name, "smtp")
