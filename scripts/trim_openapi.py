"""Writes the part of a provider's OpenAPI document that the simulators use, as JSON.

    python scripts/trim_openapi.py SPEC OUT --path /v1/refunds --path '/v1/refunds/{refund}' \
        [--schema event ...]

Keeps `openapi`, `info`, `servers`, the named paths (all their methods), the named component
schemas, and every component those reach through `$ref`; nothing is rewritten (but for the
dates of YAML examples, written as the strings YAML read them from). The trimmed
files live in tests/specs/ (origins and licences in its README). Reads YAML or JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _load(path: Path) -> dict[str, Any]:
    if path.suffix in {".yaml", ".yml"}:
        import yaml  # only to trim: the tests read the JSON this writes

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with path.open("rb") as handle:
            return dict(yaml.load(handle, Loader=loader))  # noqa: S506 - a safe loader
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def trim(document: dict[str, Any], paths: list[str], schemas: list[str]) -> dict[str, Any]:
    missing = [path for path in paths if path not in document["paths"]]
    if missing:
        raise SystemExit(f"not in the document: {missing}")
    kept: dict[str, Any] = {
        key: document[key] for key in ("openapi", "info", "servers") if key in document
    }
    kept["paths"] = {path: document["paths"][path] for path in paths}
    wanted = {f"#/components/schemas/{name}" for name in schemas}
    _refs(kept["paths"], wanted)
    done: set[str] = set()
    while wanted - done:
        ref = sorted(wanted - done)[0]
        done.add(ref)
        _refs(_resolve(document, ref), wanted)
    components: dict[str, dict[str, Any]] = {}
    for ref in sorted(done):
        _, _, kind, name = ref.split("/", 3)
        components.setdefault(kind, {})[name] = _resolve(document, ref)
    kept["components"] = components
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--path", action="append", default=[])
    parser.add_argument("--schema", action="append", default=[])
    arguments = parser.parse_args()
    trimmed = trim(_load(arguments.spec), arguments.path, arguments.schema)
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(trimmed, indent=1, default=str) + "\n", "utf-8")
    print(
        f"{arguments.out}: {len(trimmed['paths'])} paths, "
        f"{sum(len(v) for v in trimmed['components'].values())} components"
    )


if __name__ == "__main__":
    main()
