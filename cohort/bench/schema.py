"""The documented shape of bench.json (schema.json, JSON Schema 2020-12) and a checker.

`problems(document)` implements the part of JSON Schema that schema.json uses (type,
const, enum, required, properties, additionalProperties, items, minimum, local $ref), so
every run checks its own output without a validator dependency; the tests also check the
file with the `jsonschema` package when it is installed.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA_ID = "cohort.bench/1"
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,),
    "integer": (int,), "number": (int, float), "null": (type(None),)}


def load_schema() -> dict[str, Any]:
    return json.loads((resources.files("cohort.bench") / "schema.json").read_text())


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[kind])


def _check(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return _check(value, root["$defs"][name], root, path)
    kinds = schema.get("type")
    if kinds is not None and not any(_is(value, k) for k in
                                     ([kinds] if isinstance(kinds, str) else kinds)):
        return [f"{path}: expected {kinds}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        return [f"{path}: must be {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} is not one of {schema['enum']}"]
    if "minimum" in schema and _is(value, "number") and value < schema["minimum"]:
        return [f"{path}: {value} < {schema['minimum']}"]
    found = []
    if isinstance(value, dict):
        found += [f"{path}: missing {k!r}" for k in schema.get("required", ()) if k not in value]
        properties, extra = schema.get("properties", {}), schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in properties:
                found += _check(v, properties[k], root, f"{path}.{k}")
            elif extra is False:
                found.append(f"{path}: unexpected {k!r}")
            elif isinstance(extra, dict):
                found += _check(v, extra, root, f"{path}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += _check(item, schema["items"], root, f"{path}[{i}]")
    return found


def problems(document: Any, schema: dict[str, Any] | None = None) -> list[str]:
    """Every place `document` breaks the schema (empty when it conforms)."""
    root = load_schema() if schema is None else schema
    return _check(document, root, root, "$")
