"""The TemplateRenderer port on Jinja2: a subject, an SMS or email text and an HTML body per
message type and language, from `messages/<language>/<type>.<part>.j2`."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateNotFound,
    UndefinedError,
    select_autoescape,
)
from markupsafe import Markup, escape

from justdriving.adapters.templates.branding import branding_from, safe_branding, text_colour_on
from justdriving.domain.errors import InvalidInput, NotFound
from justdriving.domain.messages import TEMPLATE_NAME, Channel
from justdriving.domain.schools import Branding
from justdriving.ports.messaging import RenderedMessage

_LANGUAGE = re.compile(r"^[a-z]{2}(?:-[A-Z]{2})?$")

_BLANK_LINES = re.compile(r"\n{3,}")


class JinjaTemplateRenderer:
    """Renders `messages/<language>/<template>.{subject,sms,txt,html}.j2` (a message type's
    template is named as the type): SMS gets the subject and the short `sms` text; email the
    subject, the `txt` body and the `html` body.

    A missing template raises NotFound; a context without a key the template needs raises
    InvalidInput naming it (the relay buries such a message rather than retrying it). Optional
    keys (fee, due, pay_url, previous_start, payment_id, refund_id, title, pdf_attached) may be
    absent. The HTML is styled by the context's `branding` (a Branding or a mapping of its
    fields); without one, by `branding_for(context["school_id"])` when given, else the default.
    `overrides` are folders laid out like `messages/` (MESSAGE_TEMPLATE_PATH), searched first:
    to reword a message, to add a language, or to add the host's own templates.
    """

    def __init__(
        self,
        *,
        branding_for: Callable[[str], Branding] | None = None,
        overrides: Sequence[str | os.PathLike[str]] = (),
    ) -> None:
        self._branding_for = branding_for
        loaders: list[BaseLoader] = [FileSystemLoader(list(overrides))] if overrides else []
        loaders.append(PackageLoader("justdriving.adapters.templates", "messages"))
        self._env = Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self._env.filters["nl2br"] = _nl2br
        self._env.filters["paragraphs"] = _paragraphs

    def render(
        self, template: str, channel: Channel, language: str, context: Mapping[str, Any]
    ) -> RenderedMessage:
        type = str(template)
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise NotFound("template", f"{type}/{channel}/{language}")
        if not TEMPLATE_NAME.match(type):
            raise NotFound("template", f"{type[:80]}/{channel}/{language}")
        values = {**context, "language": language, **self._styling(context)}
        subject = " ".join(self._part(type, channel, language, "subject", values).split())
        if channel is Channel.SMS:
            sms = self._part(type, channel, language, "sms", values)
            return RenderedMessage(subject, _tidy(sms))
        text = _tidy(self._part(type, channel, language, "txt", values))
        html = self._part(type, channel, language, "html", {**values, "subject": subject})
        return RenderedMessage(subject, text, html)

    def _styling(self, context: Mapping[str, Any]) -> dict[str, Any]:
        if "branding" in context:
            branding = branding_from(context["branding"])
        elif self._branding_for is not None and "school_id" in context:
            branding = self._branding_for(str(context["school_id"]))
        else:
            branding = Branding()
        branding = safe_branding(branding)
        return {"branding": branding, "on_colour": text_colour_on(branding.colour)}

    def _part(
        self,
        type: str,
        channel: Channel,
        language: str,
        part: str,
        values: Mapping[str, Any],
    ) -> str:
        name = f"{language}/{type}.{part}.j2"
        try:
            return self._env.get_template(name).render(values)
        except TemplateNotFound:
            raise NotFound("template", f"{type}/{channel}/{language}") from None
        except UndefinedError as missing:
            raise InvalidInput(f"template {name} lacks a value in its context: {missing}") from None


def _tidy(text: str) -> str:
    """Plain text without trailing spaces or runs of blank lines that template logic leaves."""
    lines = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return _BLANK_LINES.sub("\n\n", lines)


def _nl2br(text: str) -> Markup:
    return Markup("<br>\n").join(escape(line) for line in str(text).splitlines())


def _paragraphs(text: str, style: str = "margin:0 0 16px;") -> Markup:
    """Blank-line separated paragraphs as <p> elements, single newlines as <br>."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", str(text)) if block.strip()]
    opening = Markup('<p style="{}">').format(style)
    return Markup("\n").join(opening + _nl2br(block) + Markup("</p>") for block in blocks)
