"""One-time signature tokens remembered in the database, so every process sees them.

Mailgun's signature covers a timestamp and a random token, not the event: a token spent once
must be refused by every web process, not only by the one that saw it. Each first use is
committed in its own unit of work (memory or SQL) before the event is stored.
"""

from __future__ import annotations

from datetime import datetime

from justdriving.ports.persistence import UnitOfWorkFactory


class StoredTokenCache:
    """mailgun.events.TokenCache over the unit of work's webhook_tokens."""

    def __init__(self, uow: UnitOfWorkFactory, provider: str = "mailgun") -> None:
        self._uow = uow
        self._provider = provider

    def first_use(
        self, token: str, keep_until: datetime, now: datetime, event_id: str = ""
    ) -> bool:
        with self._uow() as uow:
            fresh = uow.webhook_tokens.first_use(
                self._provider, token, event_id or "-", keep_until, now
            )
            uow.commit()
        return fresh
