"""Recorded simulator exchanges checked against the providers' published OpenAPI documents.

    problems = SPECS.check(exchange)    # [] when the exchange is what the spec describes

For a request: its path and method are an operation of the provider's document; every query
parameter is one the operation documents, valid against its schema, and none it requires is
missing; its body is of
a media type the operation lists and valid against that media type's schema (JSON as it is; a
form's fields, urlencoded or multipart, decoded as the spec's `style`/`explode` rules say:
`a[b][0]=x` to nested objects and lists for Stripe, repeated fields to arrays). For a response:
its status is documented (exactly, as `2XX`, or `default`), and a JSON body is valid against the
schema of that status. A webhook payload is checked against the provider's event schema, and its
resource against the resource's own schema, where the spec has them. The validation itself is
`openapi-schema-validator`'s (OpenAPI 3.0 / 3.1 dialects of JSON Schema, with formats); this
module only finds the schema and decodes the wire format.

The documents are the trimmed copies in tests/specs/ (see its README); GatewayAPI's and
QuickBooks Online's are written by us from their public documentation.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from attrs import frozen
from openapi_schema_validator import (
    OAS30Validator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)

from justdriving.testing.exchanges import Exchange

SPEC_DIR = Path(__file__).parent / "specs"


@frozen
class Problem:
    """One way an exchange differs from the spec: `part` is request, response or webhook."""

    provider: str
    operation: str
    part: str
    message: str


@frozen
class Operation:
    document: dict[str, Any]
    template: str
    method: str
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.template}"


class Document:
    """One OpenAPI document and the path prefix its first server URL gives."""

    def __init__(self, path: Path, *, any_case: bool = False) -> None:
        self.name = path.name
        self.spec: dict[str, Any] = _nullable(json.loads(path.read_text(encoding="utf-8")))
        servers = self.spec.get("servers") or [{"url": ""}]
        self.prefix = re.sub(r"^[a-z]+://[^/]+", "", servers[0]["url"]).rstrip("/")
        self._routes = sorted(
            (
                (
                    template.count("{"),
                    re.compile(_pattern(self.prefix + template), re.IGNORECASE if any_case else 0),
                    template,
                )
                for template in self.spec.get("paths", {})
            ),
            key=lambda route: route[0],  # a literal segment wins over a parameter
        )

    @property
    def v31(self) -> bool:
        return str(self.spec.get("openapi", "")).startswith("3.1")

    def find(self, method: str, path: str) -> Operation | None:
        for _, pattern, template in self._routes:
            if pattern.fullmatch(path):
                item = self.spec["paths"][template]
                if method.lower() in item:
                    return Operation(self.spec, template, method.lower(), item[method.lower()])
        return None

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            target: Any = self.spec
            for part in node["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def validate(self, schema: dict[str, Any], instance: Any) -> list[str]:
        validator = _validator(self, json.dumps(schema, sort_keys=True))
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [_describe(error) for error in errors[:5]]


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema says it: the schema, or null.

    openapi-schema-validator reads `nullable` beside `type` only, so a nullable `enum`, `anyOf`
    or `$ref` (Stripe writes every optional field so) would refuse the null the provider sends.
    SendGrid's 3.1 document uses the 3.0 keyword too; it means the same there."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    if node.get("nullable") is True:
        rest = {key: value for key, value in node.items() if key != "nullable"}
        return {"anyOf": [rest, {"enum": [None]}]}
    return node


def _pattern(template: str) -> str:
    parts = re.split(r"(\{[^}]+\})", template)
    return "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)


@cache
def _validator(document: Document, schema_json: str) -> Any:
    schema = {**json.loads(schema_json), "components": document.spec.get("components", {})}
    if document.v31:
        return OAS31Validator(schema, format_checker=oas31_format_checker)
    return OAS30Validator(schema, format_checker=oas30_format_checker)


def _describe(error: Any) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(body)"
    message = error.message if len(error.message) < 300 else error.message[:297] + "..."
    return f"{where}: {message}"


# Decoding bodies ---------------------------------------------------------------------------


def _media_type(headers: Mapping[str, str]) -> str:
    value = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return value.split(";")[0].strip().lower()


def _form_pairs(exchange: Exchange) -> list[tuple[str, str]]:
    media = _media_type(exchange.request_headers)
    if media == "multipart/form-data":
        kind = next(v for k, v in exchange.request_headers.items() if k.lower() == "content-type")
        head = f"Content-Type: {kind}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            head + exchange.request_body
        )
        pairs = []
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            pairs.append((str(name), payload.decode("utf-8", "replace")))
        return pairs
    return parse_qsl(exchange.request_body.decode("utf-8"), keep_blank_values=True)


def _nest(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's deepObject form: `a[b][c]=v` is {"a": {"b": {"c": "v"}}}, `a[0][x]` a list;
    a field given twice without brackets is a list (Twilio's and Mailgun's arrays)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        names = re.findall(r"\[([^\]]*)\]", key)
        head = key.split("[", 1)[0] if names else key
        keys: list[str] = [head, *names]
        node: Any = root
        for position, name in enumerate(keys):
            last = position == len(keys) - 1
            if isinstance(node, list):
                index = int(name) if name.isdigit() else len(node)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                else:
                    if node[index] is None:
                        node[index] = [] if _list_next(keys, position) else {}
                    node = node[index]
                continue
            if last:
                if name in node and not names:
                    existing = node[name]
                    node[name] = (
                        [*existing, value]
                        if isinstance(existing, list)
                        else [
                            existing,
                            value,
                        ]
                    )
                else:
                    node[name] = value
            else:
                if name not in node:
                    node[name] = [] if _list_next(keys, position) else {}
                node = node[name]
    return root


def _list_next(keys: list[str], position: int) -> bool:
    following = keys[position + 1]
    return following.isdigit() or following == ""


def _coerce(document: Document, schema: Any, value: Any) -> Any:
    """Form values are strings: read them as the schema's type says, as a server would."""
    schema = document.resolve(schema)
    if not isinstance(schema, dict):
        return value
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, []):
            option = document.resolve(option)
            if _fits(option, value):
                return _coerce(document, option, value)
    kind = schema.get("type")
    if isinstance(kind, list):  # 3.1: ["string", "null"]
        kind = next((k for k in kind if k != "null"), None)
    if kind == "array":
        items = value if isinstance(value, list) else [value]
        return [_coerce(document, schema.get("items", {}), item) for item in items]
    if kind == "object" and isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {
            name: _coerce(
                document,
                properties.get(name, extra if isinstance(extra, dict) else {}),
                item,
            )
            for name, item in value.items()
        }
    if isinstance(value, str):
        if kind == "integer" and re.fullmatch(r"-?\d+", value):
            return int(value)
        if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?", value):
            return float(value)
        if kind == "boolean" and value in {"true", "false"}:
            return value == "true"
    return value


def _fits(schema: dict[str, Any], value: Any) -> bool:
    kind = schema.get("type")
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if isinstance(value, str) and value == "" and "enum" in schema:
        return "" in schema["enum"]
    return not isinstance(value, dict | list)


# Checking ------------------------------------------------------------------------------------


WebhookCheck = Callable[["ProviderSpec", Exchange], list[str] | None]


class ProviderSpec:
    """A provider's documents; `webhook` checks a delivery (None: the spec has no schema)."""

    def __init__(
        self,
        provider: str,
        files: list[str],
        webhook: WebhookCheck | None = None,
        *,
        any_case: bool = False,  # paths match in any case (Xero's: /connections, /Connections)
    ) -> None:
        self.provider = provider
        self.documents = [Document(SPEC_DIR / provider / name, any_case=any_case) for name in files]
        self._webhook = webhook

    def schema(self, name: str) -> tuple[Document, dict[str, Any]]:
        for document in self.documents:
            if name in document.spec.get("components", {}).get("schemas", {}):
                return document, {"$ref": f"#/components/schemas/{name}"}
        raise KeyError(name)

    def find(self, method: str, path: str) -> tuple[Document, Operation] | None:
        for document in self.documents:
            operation = document.find(method, path)
            if operation is not None:
                return document, operation
        return None

    def check(self, exchange: Exchange) -> tuple[str, list[Problem]]:
        """The operation's name, and what differs from the spec."""
        if exchange.kind == "webhook":
            found = self._webhook(self, exchange) if self._webhook else None
            messages = ["no event schema in the spec"] if found is None else found
            name = f"webhook {exchange.path}"
            return name, [Problem(self.provider, name, "webhook", m) for m in messages]
        located = self.find(exchange.method, exchange.path)
        if located is None:
            name = f"{exchange.method} {exchange.path}"
            return name, [Problem(self.provider, name, "request", "no such operation")]
        document, operation = located
        problems = [
            Problem(self.provider, operation.name, "request", message)
            for message in [
                *self._query(document, operation, exchange),
                *self._request(document, operation, exchange),
            ]
        ]
        if exchange.status is not None:
            problems += [
                Problem(self.provider, operation.name, "response", message)
                for message in self._response(document, operation, exchange)
            ]
        return operation.name, problems

    def _query(self, document: Document, operation: Operation, exchange: Exchange) -> list[str]:
        """Every query parameter given is one the operation documents, valid against its
        schema (Stripe's `expand[0]=x` read as its deepObject style says); none required is
        missing."""
        declared = {
            parameter["name"]: parameter
            for parameter in (
                document.resolve(p)
                for p in [
                    *document.spec["paths"][operation.template].get("parameters", []),
                    *operation.spec.get("parameters", []),
                ]
            )
            if parameter.get("in") == "query"
        }
        given = _nest(parse_qsl(exchange.query, keep_blank_values=True))
        problems = [
            f"query parameter {name!r} is not documented" for name in given if name not in declared
        ]
        problems += [
            f"query parameter {name!r} is required but missing"
            for name, parameter in declared.items()
            if parameter.get("required") and name not in given
        ]
        for name, value in given.items():
            parameter = declared.get(name, {})
            schema = parameter.get("schema")
            if isinstance(value, str) and parameter.get("explode") is False:
                value = value.split(",")  # style form, not exploded: a,b,c
            if schema is not None:
                instance = _coerce(document, schema, value)
                problems += [f"query {name}: {m}" for m in document.validate(schema, instance)]
        return problems

    def _request(self, document: Document, operation: Operation, exchange: Exchange) -> list[str]:
        body_spec = document.resolve(operation.spec.get("requestBody"))
        if not body_spec:
            return []
        if not exchange.request_body:
            return ["the request body is required but empty"] if body_spec.get("required") else []
        media = _media_type(exchange.request_headers)
        content = body_spec.get("content", {})
        if media not in content:
            return [f"request media type {media!r} is not one of {sorted(content)}"]
        schema = content[media].get("schema", {})
        if media == "application/json":
            try:
                instance = json.loads(exchange.request_body)
            except ValueError:
                return ["the request body is not JSON"]
        else:
            instance = _coerce(document, schema, _nest(_form_pairs(exchange)))
        return document.validate(schema, instance)

    def _response(self, document: Document, operation: Operation, exchange: Exchange) -> list[str]:
        responses = operation.spec.get("responses", {})
        status = str(exchange.status)
        key = next(
            (k for k in (status, f"{status[0]}XX", f"{status[0]}xx", "default") if k in responses),
            None,
        )
        if key is None:
            return [f"status {status} is not documented ({sorted(responses)})"]
        content = document.resolve(responses[key]).get("content") or {}
        media = _media_type(exchange.response_headers)
        if not content or not exchange.response_body:
            return []
        if media not in content and "*/*" not in content:
            return [f"response media type {media!r} is not one of {sorted(content)}"]
        schema = content.get(media, content.get("*/*", {})).get("schema")
        if not schema or "json" not in media:
            return []
        try:
            instance = json.loads(exchange.response_body)
        except ValueError:
            return ["the response body is not JSON"]
        return document.validate(schema, instance)
