"""The use cases stay three import levels deep: a reader following a path crosses each layer
once (a use case or a follow-up, then a shared step, then the domain). The facade
(`application.py`) and the relay (`relay/`) compose them from outside the package."""

from __future__ import annotations

import functools

import grimp
import pytest

SERVICES = "justdriving.domain.services"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("justdriving")


def imports_within(graph: grimp.ImportGraph, module: str) -> set[str]:
    found = graph.find_modules_directly_imported_by(module)
    return {m for m in found if m.startswith(SERVICES + ".") and m != module}


def test_no_chain_of_imports_among_the_use_cases_is_longer_than_three(
    graph: grimp.ImportGraph,
) -> None:
    modules = {m for m in graph.modules if m.startswith(SERVICES + ".")}

    @functools.cache
    def depth(module: str) -> int:
        return 1 + max((depth(m) for m in imports_within(graph, module)), default=0)

    deepest = max(modules, key=depth)

    assert len(modules) > 40
    assert depth(deepest) <= 3, deepest


def test_the_follow_ups_build_on_shared_steps_only(graph: grimp.ImportGraph) -> None:
    followups = [m for m in graph.modules if m.startswith(SERVICES + ".followups.")]
    allowed = (SERVICES + ".steps.", SERVICES + ".accounting.documents")

    used = {m: imports_within(graph, m) for m in followups}

    assert len(followups) >= 8
    assert {m: sorted(u for u in used[m] if not u.startswith(allowed)) for m in followups} == {
        m: [] for m in followups
    }


def test_nothing_in_the_use_cases_imports_the_relay_or_the_facade(
    graph: grimp.ImportGraph,
) -> None:
    modules = [m for m in graph.modules if m.startswith(SERVICES)]

    outward = {
        m: sorted(
            d
            for d in graph.find_modules_directly_imported_by(m)
            if d.startswith(("justdriving.relay", "justdriving.application"))
        )
        for m in modules
    }

    assert {m: found for m, found in outward.items() if found} == {}
