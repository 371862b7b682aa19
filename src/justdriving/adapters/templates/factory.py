"""The template renderer the settings ask for: the package's templates, behind the host's
folders (MESSAGE_TEMPLATE_PATH) when it names any."""

from __future__ import annotations

from pathlib import Path

from justdriving.adapters.templates.renderer import JinjaTemplateRenderer
from justdriving.config import Settings
from justdriving.domain.errors import ConfigurationError


def message_renderer(settings: Settings) -> JinjaTemplateRenderer:
    """ConfigurationError when a folder on MESSAGE_TEMPLATE_PATH is not there: a missing
    override would otherwise go unnoticed until the package's wording went out instead."""
    folders = [Path(folder).expanduser() for folder in settings.message_template_path]
    absent = [str(number) for number, folder in enumerate(folders, 1) if not folder.is_dir()]
    if absent:
        raise ConfigurationError(
            "MESSAGE_TEMPLATE_PATH names folders that are not there",
            [f"MESSAGE_TEMPLATE_PATH: entry {', '.join(absent)} is not a folder"],
        )
    return JinjaTemplateRenderer(overrides=folders)
