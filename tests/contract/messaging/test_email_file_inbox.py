"""FileInboxEmailSender: each email a whole .eml file a mail client opens, named by time."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any

import pytest

from justdriving.adapters.email.file_inbox import FileInboxEmailSender
from justdriving.adapters.memory import FrozenClock
from justdriving.domain.errors import ProviderRejected, ProviderUnavailable
from justdriving.domain.messages import Attachment, EmailMessage
from justdriving.domain.people import EmailAddress

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
PDF = Attachment("faktura-1042.pdf", "application/pdf", b"%PDF-1.4 invoice")


def an_email(**changes: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": EmailAddress("sofie@example.dk"),
        "subject": "Faktura 1042",
        "text": "Din faktura er vedhæftet.",
        "html": "<p>Din faktura er vedhæftet.</p>",
        "reference": "msg/1042",
        "attachments": (PDF,),
    }
    return EmailMessage(**{**fields, **changes})


def read(path: Path) -> MimeMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(parsed, MimeMessage)
    return parsed


def test_each_email_is_an_eml_file_whose_message_id_is_the_receipt(tmp_path: Path) -> None:
    inbox = FileInboxEmailSender(tmp_path / "inbox", clock=FrozenClock(NOW))
    receipt = inbox.send(an_email())
    (path,) = inbox.paths()
    assert path.name.startswith("20250314-093000-msg_1042-")
    assert path.suffix == ".eml"
    message = read(path)
    assert message["Message-ID"] == f"<{receipt.provider_message_id}>"
    assert receipt.provider == "file"
    assert message.get_content_type() == "multipart/mixed"
    body, pdf = message.iter_parts()
    assert [p.get_content_type() for p in body.iter_parts()] == ["text/plain", "text/html"]
    assert pdf.get_content() == PDF.content


def test_nothing_half_written_is_left_behind(tmp_path: Path) -> None:
    inbox = FileInboxEmailSender(tmp_path)
    for n in range(5):
        inbox.send(an_email(reference=f"msg_{n}"))
    assert len(inbox.paths()) == 5
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".eml") == []


def test_bulk_mail_shows_its_list_unsubscribe_without_configuration(tmp_path: Path) -> None:
    inbox = FileInboxEmailSender(tmp_path, from_address="noreply@koreskolen.dk")
    inbox.send(an_email(bulk=True))
    message = read(inbox.paths()[0])
    # A long value is folded right after the colon; unfolded, it keeps the fold's space.
    assert message["List-Unsubscribe"].strip() == (
        "<mailto:unsubscribe@koreskolen.dk?subject=unsubscribe%20msg%2F1042>"
    )


def test_an_unsafe_message_is_rejected(tmp_path: Path) -> None:
    inbox = FileInboxEmailSender(tmp_path)
    with pytest.raises(ProviderRejected):
        inbox.send(an_email(to=EmailAddress("sofie@example.dk>,x")))
    assert inbox.paths() == []


def test_a_folder_that_is_a_file_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "inbox"
    blocker.write_text("not a folder")
    with pytest.raises(ProviderUnavailable):
        FileInboxEmailSender(blocker).send(an_email())
