"""Known-vulnerability audit of the installed dependencies: `make audit` (CI runs it).

Runs pip-audit on this virtualenv (the project itself skipped) and reads its JSON report:

- a known vulnerability that is not in IGNORED below fails the audit (exit 1), with the
  package, the advisory and the versions that fix it;
- every ignored one must say why here, and is printed each run;
- packages pip-audit could not look up are counted, never reported as clean: pip-audit
  itself prints "No known vulnerabilities found" when it audited nothing. When the
  vulnerability service cannot be reached at all (a registry mirror without PyPI's JSON API,
  no route to OSV), the audit says NOT AUDITED and exits 0, or 1 with
  JUSTDRIVING_REQUIRE_AUDIT=1 (for a CI that can reach the service).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

# advisory id -> why it does not apply or cannot be fixed yet (none today)
IGNORED: dict[str, str] = {}


def summarize(
    report: Mapping[str, Any], *, ignored: Mapping[str, str], require: bool
) -> tuple[list[str], int]:
    """The lines to print and the exit code for one pip-audit JSON report."""
    dependencies = [  # the project itself (installed editable) is not a dependency
        d for d in report.get("dependencies", []) if "editable" not in d.get("skip_reason", "")
    ]
    skipped = [d for d in dependencies if "skip_reason" in d]
    found = [(d, v) for d in dependencies for v in d.get("vulns", [])]
    lines = []
    for dependency, vulnerability in found:
        fixes = ", ".join(vulnerability.get("fix_versions", [])) or "no fixed release"
        lines.append(
            f"VULNERABLE {dependency['name']} {dependency['version']}: "
            f"{vulnerability['id']} (fixed in {fixes})"
        )
    lines += [f"ignored {advisory}: {reason}" for advisory, reason in ignored.items()]
    audited = len(dependencies) - len(skipped)
    lines.append(
        f"pip-audit: {audited} of {len(dependencies)} packages audited, {len(found)} findings"
    )
    if skipped:
        reasons = sorted({d["skip_reason"].split(":")[0] for d in skipped})
        lines.append(f"  {len(skipped)} not audited: {'; '.join(reasons)}")
    if found:
        return lines, 1
    if dependencies and audited == 0:
        lines.append("NOT AUDITED: pip-audit reached no vulnerability data from this machine")
        return lines, 1 if require else 0
    return lines, 0


def main() -> int:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--skip-editable",
        *(f"--ignore-vuln={advisory}" for advisory in IGNORED),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
        return 1
    require = os.environ.get("JUSTDRIVING_REQUIRE_AUDIT") == "1"
    lines, code = summarize(report, ignored=IGNORED, require=require)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
