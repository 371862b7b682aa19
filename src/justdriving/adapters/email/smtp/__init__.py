"""SMTP behind the EmailSender port, with smtplib.

What the factories use is named here and loaded on first use, so importing this package (or
one of its modules that needs no SDK) loads no SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.adapters.lazy_names import lazy_names

if TYPE_CHECKING:
    from justdriving.adapters.email.smtp.sender import SmtpEmailSender

__all__ = ["SmtpEmailSender"]
__getattr__ = lazy_names(__name__, {"SmtpEmailSender": "sender"})
