"""Sending any template to any person or address: the host application's way into the message
pipeline (welcome, email verification, password reset, or a template of its own), through the
same delivery policy, staging redirect, suppression list, throttle and message log as the rest."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

from justdriving.domain.errors import DuplicateRecord, InvalidInput
from justdriving.domain.ids import MessageId, derived_id, new_id
from justdriving.domain.messages import Channel, OutboundMessage, check_template_name
from justdriving.domain.people import EmailAddress, PhoneNumber, Student, Teacher
from justdriving.domain.schools import MessageType, School
from justdriving.domain.services.steps.billing import in_school
from justdriving.domain.services.steps.messages import queue_to_address
from justdriving.ports.clock import Clock
from justdriving.ports.messaging import TemplateRenderer
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

_BUILT_IN: Final = {type.value: type for type in MessageType}
# What the pipeline itself puts in a message's context; the host cannot replace them.
_OURS: Final = frozenset({"school_name", "branding", "language", "on_colour", "pdf_attached"})
_MAX_CONTEXT_CHARS: Final = 20_000
_MAX_KEY: Final = 255
_LANGUAGE: Final = re.compile(r"^[a-z]{2}$")


class TemplateMessages:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, renderer: TemplateRenderer) -> None:
        self._uow, self._clock, self._renderer = uow, clock, renderer

    def send_template(
        self,
        school_id: str,
        template: str,
        *,
        to: str,
        context: Mapping[str, Any] | None = None,
        channels: frozenset[Channel] | None = None,
        language: str | None = None,
        idempotency_key: str | None = None,
    ) -> list[OutboundMessage]:
        """Queue `template` to `to` (a student's or teacher's id in the school, an email
        address, or a phone number in the school's region) with `context`; returns the
        messages queued (the log: each later shows sent, suppressed, redirected or failed).

        A person gets email unless `channels` says otherwise; an address gets its own channel.
        The language is `language`, else the person's, else the school's; the email wears the
        school's branding. A built-in template (welcome, email_verification, password_reset,
        or any message type) is sent as that type; any other name is the host's own template
        (MESSAGE_TEMPLATE_PATH), sent as a notice. The template is rendered once here, so a
        missing template or context value is refused now (NotFound, InvalidInput), not by the
        relay later. The same `idempotency_key` queues nothing twice: the first call's messages
        are returned again.
        """
        check_template_name(template)
        values = _checked_context(context or {})
        if language is not None and not _LANGUAGE.match(language):
            raise InvalidInput("a language is a two-letter code such as da or en")
        if idempotency_key is not None and not 0 < len(idempotency_key) <= _MAX_KEY:
            raise InvalidInput(f"an idempotency key is 1 to {_MAX_KEY} characters")
        try:
            return self._queue(school_id, template, to, values, channels, language, idempotency_key)
        except DuplicateRecord:  # the same key, queued by a racing call: theirs stands
            if idempotency_key is None:
                raise
            return self._queue(school_id, template, to, values, channels, language, idempotency_key)

    def _queue(
        self,
        school_id: str,
        template: str,
        to: str,
        values: dict[str, Any],
        channels: frozenset[Channel] | None,
        language: str | None,
        key: str | None,
    ) -> list[OutboundMessage]:
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            addresses, name, person_language = _recipients(uow, school, to, channels)
            language = language or person_language or school.settings.language
            pairs = [(address, _message_id(school, key, address)) for address in addresses]
            # With a key, a channel already queued by an earlier call is not queued again.
            found = [uow.messages.find(i) for _, i in pairs] if key is not None else []
            earlier = {m.id: m for m in found if m is not None}
            fresh = [(address, i) for address, i in pairs if i not in earlier]
            if name is not None:
                values = {"recipient_name": name, **values}
            values = {**values, "school_name": school.name}
            kind = _BUILT_IN.get(template, MessageType.NOTICE)
            own = None if template in _BUILT_IN else template
            for address, _ in fresh:
                self._try(school, own or kind.value, address, language, values)
            now = self._clock.now()
            queued = {
                i: queue_to_address(
                    uow, school, address, kind, values, language, now, template=own, message_id=i
                )
                for address, i in fresh
            }
            if queued:
                uow.commit()
        return [queued[i] if i in queued else earlier[i] for _, i in pairs]

    def _try(
        self,
        school: School,
        template: str,
        address: PhoneNumber | EmailAddress,
        language: str,
        values: Mapping[str, Any],
    ) -> None:
        """Render it as the relay will (with the school's branding): refuse what would fail."""
        channel = Channel.SMS if isinstance(address, PhoneNumber) else Channel.EMAIL
        context = {**values, "branding": school.settings.branding, "pdf_attached": False}
        self._renderer.render(template, channel, language, context)


def _recipients(
    uow: UnitOfWork, school: School, to: str, channels: frozenset[Channel] | None
) -> tuple[list[PhoneNumber | EmailAddress], str | None, str | None]:
    """The addresses to write to, the person's name and language (None for a bare address)."""
    person: Student | Teacher | None = None
    if to.startswith("stu_"):
        person = in_school(uow.students.get(to), school.id, "student")
    elif to.startswith("tch_"):
        person = in_school(uow.teachers.get(to), school.id, "teacher")
    if person is None:
        address: PhoneNumber | EmailAddress = (
            EmailAddress.parse(to) if "@" in to else PhoneNumber.parse(to, school.phone_region)
        )
        channel = Channel.SMS if isinstance(address, PhoneNumber) else Channel.EMAIL
        if channels is not None and channel not in channels:
            raise InvalidInput(f"{to!r} is reached by {channel}, not by {sorted(channels)}")
        return [address], None, None
    wanted = frozenset({Channel.EMAIL}) if channels is None else channels
    found: list[PhoneNumber | EmailAddress] = []
    if Channel.EMAIL in wanted and person.email is not None:
        found.append(person.email)
    if Channel.SMS in wanted and person.phone is not None:
        found.append(person.phone)
    if not found:
        raise InvalidInput(f"{person.id} has no {' or '.join(sorted(wanted))} to write to")
    return found, person.name, person.language


def _message_id(school: School, key: str | None, address: PhoneNumber | EmailAddress) -> MessageId:
    """A fresh id, or with a key the same id for the same school, key and channel."""
    if key is None:
        return MessageId(new_id("msg"))
    channel = "sms" if isinstance(address, PhoneNumber) else "email"
    return MessageId(derived_id("msg", school.id, key, channel))


def _checked_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """A context that can be stored as JSON and read back the same: text keys, and values
    that are text, whole or finite numbers, booleans, None, or lists and mappings of them."""
    if not all(isinstance(key, str) and key.isidentifier() for key in context):
        raise InvalidInput("a context's keys are names (letters, digits, underscores)")
    taken = _OURS & set(context)
    if taken:
        raise InvalidInput(f"the pipeline fills {sorted(taken)} itself")
    for key, value in context.items():
        _check_value(key, value)
    if len(repr(context)) > _MAX_CONTEXT_CHARS:
        raise InvalidInput(f"a context is at most {_MAX_CONTEXT_CHARS} characters")
    return dict(context)


def _check_value(key: str, value: Any, depth: int = 0) -> None:
    if depth > 4:
        raise InvalidInput(f"context value {key!r} is nested too deeply")
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float) and math.isfinite(value):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_value(key, item, depth + 1)
        return
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        for item in value.values():
            _check_value(key, item, depth + 1)
        return
    raise InvalidInput(f"context value {key!r} is not text, a number, a list or a mapping")
