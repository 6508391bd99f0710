"""The fast way to read a domain file: yaml-rs, wherever it means what PyYAML means.

PyYAML builds every value in Python: about 90 microseconds for a typical domain file,
most of a start at 100 000 files. yaml-rs parses in Rust in about 10. But domain files
have always been read as YAML 1.1 (PyYAML), and yaml-rs reads YAML 1.2, where a few
plain values mean something else (``yes`` is a string, ``0755`` is 755, ``1e3`` is a
number; https://yaml.org/spec/1.2.2/ext/changes/). So yaml-rs's answer is used only
when it cannot differ:

- the text has none of what only PyYAML handles the 1.1 way or refuses: tags, anchors
  and aliases, merge keys (``<<``), directives, a byte order mark, NEL or Unicode line
  separators, characters YAML does not allow (yaml-rs cuts a value at a NUL);
- every string, read as a plain value, would be a string for PyYAML too (checked with
  PyYAML's own resolver; a quoted ``'yes'`` also goes the slow way, which is only slower);
- no float (no domain file value is one), and no integer written with a leading zero
  or ``0o`` (octal in 1.1, decimal or unknown in 1.2);
- only string keys, a mapping at the top, nesting no deeper than a domain file's.

Anything else returns ``NOT_CERTAIN``, and the caller parses with PyYAML, which also
words every error message with its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

import yaml
import yaml_rs

NOT_CERTAIN: Final = object()  # yaml-rs's answer might differ from PyYAML's: ask PyYAML

_STR_TAG = "tag:yaml.org,2002:str"
# A tag (!), an anchor (&) or an alias (*) where a value starts. A match inside a quoted
# string or a comment only sends the file the slow way.
_NODE_PROPERTY = re.compile(r"(?:^|[\s\[\]{},])[!&*]")
_ASCII_CONTROL = re.compile(r"[^\x09\x0a\x0d\x20-\x7e]")
# What YAML 1.1 does not allow (section 5.1, as PyYAML's reader checks it), and what it
# reads as a line break (NEL, LS, PS) or ignores (a byte order mark) while YAML 1.2 does not.
_UNICODE_TROUBLE = re.compile(
    r"[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\ufeff\u2028\u2029]"
)
# An integer PyYAML reads as octal or as a string, and yaml-rs as a decimal or octal number.
_AMBIGUOUS_INTEGER = re.compile(r"(?<![\w.])[-+]?0[0-9_oO]")
# Every plain value PyYAML resolves to something other than a string (bool, int, float,
# null, timestamp, merge, value), one per line: its own patterns, all at once.
_NOT_A_STRING_IN_YAML_1_1 = re.compile(
    "|".join(
        f"(?:{regexp.pattern})"
        for regexp in dict.fromkeys(
            regexp
            for resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.values()
            for tag, regexp in resolvers
            if tag != _STR_TAG
        )
    ),
    re.VERBOSE | re.MULTILINE,
)


def parse(text: str, max_depth: int) -> Any:
    """The mapping in ``text`` as PyYAML would build it, or ``NOT_CERTAIN``."""
    if _needs_pyyaml(text):
        return NOT_CERTAIN
    try:
        data = yaml_rs.loads(text, parse_datetime=False)  # duplicate keys raise
    except (yaml_rs.YAMLDecodeError, ValueError, RecursionError):
        return NOT_CERTAIN
    if not isinstance(data, dict):  # also what yaml-rs gives for several documents
        return NOT_CERTAIN
    strings: list[str] = []
    found = _collect(data, 0, max_depth, strings)
    if found is None or (found and _AMBIGUOUS_INTEGER.search(text)):
        return NOT_CERTAIN
    # An empty string comes only from quotes (a plain empty value is null): skip those.
    if _NOT_A_STRING_IN_YAML_1_1.search("\n".join(filter(None, strings))):
        return NOT_CERTAIN
    return data


def _needs_pyyaml(text: str) -> bool:
    """Whether ``text`` uses what only PyYAML reads the YAML 1.1 way (or refuses)."""
    if ("!" in text or "&" in text or "*" in text) and _NODE_PROPERTY.search(text):
        return True
    if "<<" in text or text.startswith("%") or "\n%" in text:  # merge keys, directives
        return True
    if text.isascii():
        return _ASCII_CONTROL.search(text) is not None
    return _UNICODE_TROUBLE.search(text) is not None


def _collect(value: Any, depth: int, max_depth: int, strings: list[str]) -> bool | None:
    """Gather every key and string of ``value`` into ``strings``; whether it holds an
    integer, or None if it holds what PyYAML may have read otherwise (a float, a key
    that is not a string, nesting deeper than a domain file's)."""
    if depth > max_depth:
        return None
    if isinstance(value, dict):
        keys_are_strings = all(isinstance(key, str) for key in value)
        strings.extend(value)
        return _collect_all(value.values(), depth, max_depth, strings) if (
            keys_are_strings
        ) else None
    if isinstance(value, list):
        return _collect_all(value, depth, max_depth, strings)
    if isinstance(value, str):
        strings.append(value)
        return False
    if value is None or isinstance(value, bool):  # null, ~, true, False: the same in 1.1
        return False
    return True if isinstance(value, int) else None  # floats (or dates, should they come)


def _collect_all(
    items: Iterable[Any], depth: int, max_depth: int, strings: list[str]
) -> bool | None:
    """``_collect`` over the items of a mapping or list (strings inline: most are)."""
    integers = False
    for item in items:
        if isinstance(item, str):
            strings.append(item)
            continue
        found = _collect(item, depth + 1, max_depth, strings)
        if found is None:
            return None
        integers = integers or found
    return integers
