"""Message templates on Jinja2: every message type in Danish and English, for SMS and email."""

from justdriving.adapters.templates.renderer import JinjaTemplateRenderer

__all__ = ["JinjaTemplateRenderer"]
