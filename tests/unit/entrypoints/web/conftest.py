"""A web app on in-memory fakes; QUEUE_BACKEND=worker unless a test asks for inline."""

from __future__ import annotations

import pytest

from justdriving.config import QueueBackend

from .support import Checkout, Site, build_site, settings_for


@pytest.fixture
def site() -> Site:
    return build_site()


@pytest.fixture
def inline_site() -> Site:
    return build_site(settings_for(queue=QueueBackend.INLINE))


@pytest.fixture
def checkout(site: Site) -> Checkout:
    return site.checkout()
