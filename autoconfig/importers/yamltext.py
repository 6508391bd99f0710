"""Writing a domain file as YAML with comments (PyYAML cannot emit comments).

Values are quoted by PyYAML itself; only the layout (keys, indentation, list
dashes, comment lines) is ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

Scalar = str | int | bool
FLOW_LIST_MAX = 3  # longer lists of scalars are written one entry per line


@dataclass
class Nested:
    """A mapping as a value (``pop3:``)."""

    block: list[Item]


@dataclass
class Entries:
    """A list of mappings as a value (``incoming:``)."""

    blocks: list[list[Item]]


@dataclass
class Item:
    """``key: value`` with the comment lines written above it."""

    key: str
    value: Scalar | list[Scalar] | Nested | Entries
    comments: list[str] = field(default_factory=list)


def scalar(value: Scalar) -> str:
    """One YAML scalar, quoted exactly when YAML needs it."""
    text = yaml.safe_dump(value, allow_unicode=True, width=1 << 20, default_flow_style=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _comment_lines(comments: list[str], indent: int) -> list[str]:
    return [f"{' ' * indent}# {line}" for text in comments for line in text.splitlines()]


def _entry(block: list[Item], indent: int) -> list[str]:
    """One list entry: the block's first key line gets the ``- ``."""
    lines = emit_block(block, indent + 4)
    first = next(i for i, line in enumerate(lines) if not line.lstrip().startswith("#"))
    lines[first] = f"{' ' * (indent + 2)}- {lines[first].lstrip()}"
    return lines


def emit_block(block: list[Item], indent: int = 0) -> list[str]:
    """The lines of a mapping at ``indent`` spaces."""
    pad = " " * indent
    lines: list[str] = []
    for item in block:
        lines += _comment_lines(item.comments, indent)
        value = item.value
        if isinstance(value, Entries):
            lines.append(f"{pad}{item.key}:")
            for entry in value.blocks:
                lines += _entry(entry, indent)
        elif isinstance(value, Nested):
            lines.append(f"{pad}{item.key}:")
            lines += emit_block(value.block, indent + 2)
        elif isinstance(value, list) and len(value) > FLOW_LIST_MAX:
            lines.append(f"{pad}{item.key}:")
            lines += [f"{pad}  - {scalar(v)}" for v in value]
        elif isinstance(value, list):
            lines.append(f"{pad}{item.key}: [{', '.join(scalar(v) for v in value)}]")
        else:
            lines.append(f"{pad}{item.key}: {scalar(value)}")
    return lines


def emit_document(header: list[str], block: list[Item]) -> str:
    """A whole file: header comments, then the top-level mapping."""
    return "\n".join(_comment_lines(header, 0) + emit_block(block)) + "\n"
