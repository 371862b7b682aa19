"""`make audit` (scripts/audit.py) reads pip-audit's JSON report: a finding fails, nothing
audited is said so (and fails only when an audit is required), the project itself is no
dependency."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "audit.py"


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _clean(name: str) -> dict[str, Any]:
    return {"name": name, "version": "1.0", "vulns": []}


def _skipped(name: str) -> dict[str, Any]:
    reason = f"Dependency not found on PyPI and could not be audited: {name} (1.0)"
    return {"name": name, "skip_reason": reason}


SELF = {"name": "justdriving", "skip_reason": "distribution marked as editable"}


def test_a_known_vulnerability_fails_the_audit_and_names_the_fix(audit: ModuleType) -> None:
    vulnerable = {
        "name": "werkzeug",
        "version": "3.0.0",
        "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["3.0.6"], "aliases": []}],
    }
    report = {"dependencies": [_clean("flask"), vulnerable, SELF]}

    lines, code = audit.summarize(report, ignored={}, require=False)

    assert code == 1
    assert "VULNERABLE werkzeug 3.0.0: GHSA-xxxx (fixed in 3.0.6)" in lines
    assert "pip-audit: 2 of 2 packages audited, 1 findings" in lines


def test_all_clean_passes(audit: ModuleType) -> None:
    lines, code = audit.summarize(
        {"dependencies": [_clean("flask"), _clean("attrs"), SELF]}, ignored={}, require=True
    )

    assert code == 0
    assert lines == ["pip-audit: 2 of 2 packages audited, 0 findings"]


@pytest.mark.parametrize(("require", "code"), [(False, 0), (True, 1)])
def test_nothing_audited_is_never_reported_clean(
    audit: ModuleType, require: bool, code: int
) -> None:
    report = {"dependencies": [_skipped("flask"), _skipped("attrs"), SELF]}

    lines, exit_code = audit.summarize(report, ignored={}, require=require)

    assert exit_code == code
    assert lines[-1].startswith("NOT AUDITED")
    assert "pip-audit: 0 of 2 packages audited, 0 findings" in lines
    assert "  2 not audited: Dependency not found on PyPI and could not be audited" in lines


def test_an_ignored_advisory_is_printed_with_its_reason(audit: ModuleType) -> None:
    lines, code = audit.summarize(
        {"dependencies": [_clean("flask")]},
        ignored={"PYSEC-1": "only the CLI we do not ship"},
        require=False,
    )

    assert code == 0
    assert "ignored PYSEC-1: only the CLI we do not ship" in lines
