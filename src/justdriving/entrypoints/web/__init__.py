"""The web entrypoint's parts: the mountable blueprint, JSON errors, the dev checkout, waitress."""

from justdriving.entrypoints.web.routes import MAX_BODY_BYTES, justdriving_blueprint

__all__ = ["MAX_BODY_BYTES", "justdriving_blueprint"]
