"""Writes the PayPal simulator's error catalogue from PayPal's own OpenAPI documents.

    python scripts/paypal_error_catalogue.py tests/specs/paypal \
        src/justdriving/testing/paypal/fixtures/errors.json

For each HTTP status, the error `name` and `message` of the documents' `error_<status>` schemas;
for each operation ("METHOD /path") and status, the detail `issue`s it may answer and each
issue's fixed `description`; the `reason`s a capture, refund or authorization may carry in its
`status_details`. tests/unit/test_paypal_errors.py checks the file against the specs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _description(item: dict[str, Any]) -> str:
    """The issue's fixed description ("" where the spec leaves it free)."""
    return str(item["properties"].get("description", {}).get("enum", [""])[0])


def catalogue(folder: Path) -> dict[str, Any]:
    statuses: dict[str, dict[str, str]] = {}
    operations: dict[str, dict[str, dict[str, str]]] = {}
    for name in ("checkout_orders_v2.json", "payments_payment_v2.json"):
        spec = json.loads((folder / name).read_text(encoding="utf-8"))
        schemas = spec["components"]["schemas"]
        for key, schema in schemas.items():
            props = schema.get("properties", {})
            if key.startswith("error_") and "enum" in props.get("name", {}):
                statuses[key.removeprefix("error_")] = {
                    "name": props["name"]["enum"][0],
                    "message": props["message"]["enum"][0],
                }
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                for status, response in operation["responses"].items():
                    schema = response.get("content", {}).get("application/json", {}).get("schema")
                    for part in (schema or {}).get("allOf", []):
                        ref = part["$ref"].rsplit("/", 1)[1]
                        if ref.startswith("error_"):
                            continue
                        issues = {
                            item["properties"]["issue"]["enum"][0]: _description(item)
                            for item in schemas[ref]["properties"]["details"]["items"]["anyOf"]
                        }
                        operations.setdefault(f"{method.upper()} {path}", {})[status] = issues
    payments = json.loads((folder / "payments_payment_v2.json").read_text(encoding="utf-8"))
    schemas = payments["components"]["schemas"]
    reasons = {
        kind: schemas[f"{kind}_status_details"]["properties"]["reason"]["enum"]
        for kind in ("capture", "refund", "authorization")
        if f"{kind}_status_details" in schemas
    }
    return {"statuses": statuses, "operations": operations, "reasons": reasons}


if __name__ == "__main__":
    target = Path(sys.argv[2])
    target.write_text(json.dumps(catalogue(Path(sys.argv[1])), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target}")
