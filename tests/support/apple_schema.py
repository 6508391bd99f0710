"""Check a profile against Apple's published payload schema (apple/device-management YAML).

Apple's YAML files (apple/device-management ``mdm/profiles``) describe every key of
every payload: its type, whether it is required, its allowed values (``rangelist``) and sometimes a
``format`` regular expression. ``profile_problems`` lists every way a profile strays
from them, plus the rules the schema states in prose (valid, unique UUIDs and
identifiers) and docs/apple.md#no-empty-values.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.support.paths import APPLE_SCHEMA

# Apple's type words -> the Python types plistlib reads them as (bool is not an integer).
PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "<string>": (str,),
    "<integer>": (int,),
    "<boolean>": (bool,),
    "<real>": (float,),
    "<array>": (list,),
    "<dictionary>": (dict,),
    "<date>": (datetime.datetime,),
    "<data>": (bytes,),
}


@cache
def payload_keys() -> dict[str, dict[str, dict[str, Any]]]:
    """Every payload type's keys, by name: {"com.apple.mail.managed": {"EmailAddress": {...}}}."""
    folder: Path = APPLE_SCHEMA
    schemas: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(folder.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        payload = document.get("payload") or {}
        if "payloadtype" in payload:
            keys = {entry["key"]: entry for entry in document.get("payloadkeys", [])}
            schemas[payload["payloadtype"]] = keys
    for needed in ("TopLevel", "CommonPayloadKeys", "com.apple.mail.managed"):
        if needed not in schemas:
            raise AssertionError(f"{folder} has no schema for {needed}")
    return schemas


def _value_problems(where: str, key: str, value: Any, spec: dict[str, Any]) -> Iterator[str]:
    kind = spec.get("type", "<any>")
    if kind != "<any>":
        types = PYTHON_TYPES[kind]
        wrong_bool = isinstance(value, bool) and bool not in types
        if wrong_bool or not isinstance(value, types):
            yield f"{where}.{key}: expected {kind}, got {type(value).__name__} {value!r}"
            return
    if isinstance(value, str | list | dict | bytes) and not value:
        yield f"{where}.{key}: empty value (docs/apple.md#no-empty-values)"
    if "rangelist" in spec and value not in spec["rangelist"]:
        yield f"{where}.{key}: {value!r} is not one of {spec['rangelist']}"
    if "format" in spec and not re.fullmatch(spec["format"], str(value)):
        yield f"{where}.{key}: {value!r} does not match {spec['format']}"


def _dict_problems(
    where: str, data: dict[str, Any], specs: dict[str, dict[str, Any]]
) -> Iterator[str]:
    for key, spec in specs.items():
        if spec.get("presence") == "required" and key not in data:
            yield f"{where}: required key {key} is missing"
    for key, value in data.items():
        if key not in specs:
            yield f"{where}: {key} is not a key of this payload"
            continue
        yield from _value_problems(where, key, value, specs[key])


def _uuid_problems(where: str, value: Any) -> Iterator[str]:
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        yield f"{where}.PayloadUUID: {value!r} is not a UUID"
        return
    if str(parsed) != str(value).lower():
        yield f"{where}.PayloadUUID: {value!r} is not in the 8-4-4-4-12 form"


def profile_problems(profile: dict[str, Any]) -> list[str]:
    """Every way ``profile`` (a plistlib-loaded dict) breaks Apple's schema; [] if none."""
    schemas = payload_keys()
    problems = list(_dict_problems("profile", profile, schemas["TopLevel"]))
    problems += _uuid_problems("profile", profile.get("PayloadUUID"))
    identifiers = [profile.get("PayloadIdentifier")]
    uuids = [profile.get("PayloadUUID")]
    for index, payload in enumerate(profile.get("PayloadContent", [])):
        where = f"PayloadContent[{index}]"
        kind = payload.get("PayloadType")
        if kind not in schemas or kind in ("TopLevel", "CommonPayloadKeys"):
            problems.append(f"{where}: unknown PayloadType {kind!r}")
            continue
        specs = {**schemas["CommonPayloadKeys"], **schemas[kind]}
        problems += _dict_problems(where, payload, specs)
        problems += _uuid_problems(where, payload.get("PayloadUUID"))
        identifiers.append(payload.get("PayloadIdentifier"))
        uuids.append(payload.get("PayloadUUID"))
    if len(set(identifiers)) != len(identifiers):
        problems.append(f"PayloadIdentifier values are not unique: {identifiers}")
    if len({str(u).lower() for u in uuids}) != len(uuids):
        problems.append(f"PayloadUUID values are not unique: {uuids}")
    return problems
