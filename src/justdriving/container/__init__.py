"""The composition root: one provider per capability, chosen by Settings; nothing else picks
an adapter. Each adapter package builds its own (`adapters/*/factory.py`, SDKs imported only
when chosen). Tests swap any provider in a `with container.<name>.override(...)` block.

`Container` (capabilities.py) holds the providers, `wiring.py` what the settings decide for the
Application, `startup.py` builds the container (`build_container`) and the application
(`bootstrap`)."""

from __future__ import annotations

from justdriving.adapters.accounting.factory import accounting_consent
from justdriving.adapters.memory.factory import DEV_WEBHOOK_SECRET
from justdriving.adapters.sql.factory import grant_store
from justdriving.container.capabilities import Container
from justdriving.container.startup import bootstrap, build_container

__all__ = ["DEV_WEBHOOK_SECRET", "Container", "accounting_consent", "bootstrap"]
__all__ += ["build_container", "grant_store"]
