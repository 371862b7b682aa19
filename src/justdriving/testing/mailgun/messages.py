"""What the Mailgun simulator reads from a `POST /v3/{domain}/messages` form, and keeps of it.

Mailgun takes multipart/form-data (or a urlencoded form when there are no files): `from`, `to`,
`subject`, at least one of `text`/`html`, files named `attachment`, and options `o:*`, headers
`h:*`, user variables `v:*`. A broken rule is a 400 `{"message": ...}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email import policy
from email.parser import BytesParser
from urllib.parse import parse_qsl

from attrs import frozen

_ADDRESS = re.compile(r"^(?:[^<>]*<)?([^@<>\s,]+@[^@<>\s,]+\.[^@<>\s,]+)>?$")


class FormError(Exception):
    """Mailgun's 400: the message it answers with."""


@frozen
class MailgunAttachment:
    filename: str
    content_type: str
    content: bytes


@frozen
class MailgunMail:
    """One accepted message: Mailgun's id (without brackets), its fields and its files."""

    message_id: str
    fields: Mapping[str, tuple[str, ...]]
    attachments: tuple[MailgunAttachment, ...] = ()

    def field(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    @property
    def to(self) -> str:
        return address_in(self.field("to") or "")

    @property
    def user_variables(self) -> dict[str, str]:
        return {k[2:]: v[0] for k, v in self.fields.items() if k.startswith("v:") and v}

    @property
    def headers(self) -> dict[str, str]:
        return {k[2:]: v[0] for k, v in self.fields.items() if k.startswith("h:") and v}

    @property
    def tags(self) -> list[str]:
        return list(self.fields.get("o:tag", ()))


def read_form(
    content_type: str, body: bytes
) -> tuple[dict[str, tuple[str, ...]], tuple[MailgunAttachment, ...]]:
    """The form's fields (every value of each name) and its files; FormError if unreadable."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return _grouped(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), ()
    if not content_type.startswith("multipart/form-data"):
        raise FormError(f"unsupported content type {content_type!r}")
    head = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    form = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not form.is_multipart():
        raise FormError("the multipart body cannot be read")
    pairs: list[tuple[str, str]] = []
    files: list[MailgunAttachment] = []
    for part in form.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(content, bytes):
            raise FormError("a form part has no name")
        filename = part.get_filename()
        if filename is not None:
            if name not in ("attachment", "inline"):
                raise FormError("files must be posted as 'attachment' or 'inline'")
            files.append(MailgunAttachment(filename, part.get_content_type(), content))
        else:
            pairs.append((name, content.decode(part.get_content_charset() or "utf-8")))
    return _grouped(pairs), tuple(files)


def check_fields(fields: Mapping[str, tuple[str, ...]]) -> None:
    """Return when Mailgun would queue a message with these fields; FormError otherwise."""
    for name in ("from", "to", "subject"):
        if not fields.get(name):
            raise FormError(f"{name} parameter is missing")
    if not any(fields.get(name) for name in ("text", "html", "amp-html", "template")):
        raise FormError("Need at least one of 'text', 'html', 'amp-html' or 'template' parameters")
    for name in ("from", "to"):
        if not all(address_in(value) for value in fields[name]):
            raise FormError(f"{name} parameter is not a valid address. please check documentation")
    if len(fields.get("o:tag", ())) > 3:
        raise FormError("a message takes at most 3 tags")
    if any(re.search(r"[\r\n]", v) for k, vs in fields.items() if k[:2] == "h:" for v in vs):
        raise FormError("a header value may not hold a line break")


def address_in(value: str) -> str:
    """The addr-spec in `Name <a@b.c>` or `a@b.c`; "" when there is none."""
    match = _ADDRESS.match(value.strip())
    return match.group(1) if match else ""


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, tuple[str, ...]] = {}
    for name, value in pairs:
        grouped[name] = (*grouped.get(name, ()), value)
    return grouped
