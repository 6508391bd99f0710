"""First-hour YAML mistakes in plain words: syntax errors, and values lost to a comment.

PyYAML (libyaml) words its errors for parser writers ("while parsing a block mapping
did not find expected key"). An admin writing a first domain file needs to know what to
change on which line: a tab in the indentation, a line indented differently from its
neighbours, a quote or bracket never closed. And one mistake is no syntax error at all:
``accent_color: #ff0000`` is a key with an empty value followed by a comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]

_INDENT_TAB = re.compile(r"^ *\t", re.MULTILINE)
INDENTATION = (
    "this line is indented differently from the lines above it: keys and list items of"
    " one level must start in the same column"
)
SECOND_COLON = (
    "a second colon on this line: either it is indented further than the key above it"
    " (keys of one level start in the same column), or a value contains ': ' and needs"
    " quotes"
)
NOT_VALID = (
    "not valid YAML here; check the indentation (spaces only), the colon after each key"
    " and the quotes"
)


# What libyaml's words (found in its problem or context) mean in a domain file: the line
# to point at (the problem's, or the context's: where the quote or bracket opened) and
# what to change there. The first that matches is used.
_EXPLAINED: tuple[tuple[str, str, str], ...] = (
    ("quoted scalar", "context", "the quote that opens a value on this line is never closed"),
    ("expected ',' or ']'", "context", "the [ list that starts on this line is not closed with ]"
     " (or a comma is missing between its items)"),
    ("expected ',' or '}'", "context", "the { mapping that starts on this line is not closed"
     " with } (or a comma is missing between its entries)"),
    ("nesting depth", "problem", "brackets nested too deeply to be a domain file"),
    ("expected node content", "problem",
     "a value is missing here, or a [ list or { mapping is not closed"),
    ("mapping values are not allowed", "problem", SECOND_COLON),
    ("expected key", "problem", INDENTATION),
    ("'-' indicator", "problem", INDENTATION),
    ("<block end>", "problem", INDENTATION),
    ("expected ':'", "context",
     "expected 'key: value' on this line; the colon after the key is missing"),
    ("another document", "problem", "a second document (---): a domain file holds one mapping"),
)


def explain_syntax_error(error: yaml.MarkedYAMLError, text: str) -> tuple[int | None, str]:
    """The line to point at and what to change there, for a YAML syntax error."""
    problem, context = str(error.problem or ""), str(error.context or "")
    problem_line = error.problem_mark.line + 1 if error.problem_mark else None
    context_line = error.context_mark.line + 1 if error.context_mark else problem_line
    tab = _INDENT_TAB.search(text)
    if tab and (problem_line is None or text.count("\n", 0, tab.start()) < problem_line):
        return text.count("\n", 0, tab.start()) + 1, (
            "indented with a tab: YAML indents with spaces only; replace the tab with spaces"
        )
    if "cannot start any token" in problem and error.problem_mark is not None:
        mark = error.problem_mark
        char = text.splitlines()[mark.line][mark.column : mark.column + 1] or "?"
        return problem_line, f"a value cannot start with {char!r}; put the value in quotes"
    for words, where, message in _EXPLAINED:
        if words in problem or words in context:
            return (context_line if where == "context" else problem_line), message
    return problem_line, NOT_VALID


# ``key: #...`` where ``#`` is followed by a non-blank character: YAML reads a comment
# (an unquoted # after a blank starts one) and leaves the key empty; a colour or a
# channel name was meant. ``key:  # a comment`` (a blank after #) is left alone.
_HASH_VALUE = re.compile(
    r"^[ ]*(?:-[ ]+)?(?P<key>[A-Za-z_][A-Za-z0-9_-]*):[ \t]+(?P<value>#\S.*?)[ \t]*$",
    re.MULTILINE,
)


# What every such line has; searched for first, as every file of a hoster's 100 000
# passes here: about 1 microsecond for a generated file (the line pattern: 7, and 65 for
# the commented example.com.yaml).
_COLON_HASH = re.compile(r":[ \t]+#\S")


def may_have_hash_values(text: str) -> bool:
    """Whether ``hash_values`` could find anything: a cheap first look."""
    return "#" in text and _COLON_HASH.search(text) is not None


def hash_values(
    text: str, data: Mapping[str, Any], lines: Mapping[KeyPath, int]
) -> Iterator[tuple[KeyPath, int, str]]:
    """Keys YAML read as empty because their value began with an unquoted ``#``: the key
    path, its line and the message, which shows the line as it should be."""
    paths_at = {(line, path[-1]): path for path, line in lines.items() if path}
    for match in _HASH_VALUE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        key, value = match.group("key"), match.group("value")
        path = paths_at.get((line, key))
        if path is None or _value_at(data, path) is not None:
            continue
        quote = '"' if "'" in value else "'"
        yield path, line, (
            "empty, because YAML reads an unquoted # as the start of a comment; put the"
            f" value in quotes: {key}: {quote}{value}{quote}"
        )


_ABSENT = object()


def _value_at(data: Any, path: KeyPath) -> Any:
    """The value at ``path``, or ``_ABSENT`` (not None: nothing to report)."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return _ABSENT
    return data
