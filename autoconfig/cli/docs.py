"""``autoconfig docs [TOPIC[#SECTION]]``: the documentation pages, from the package.

Messages of the installed package point at pages as ``autoconfig docs dns#certificates``
so that a user without the repository can read them. The wheel carries the pages of the
repository's ``docs/`` folder as ``autoconfig/docs/`` (hatch_build.py); a source checkout
reads ``docs/`` where it is. A SECTION is the anchor a heading has on GitHub (lower case,
spaces as ``-``), so ``docs/dns.md#certificates`` and ``autoconfig docs
dns#certificates`` name the same text.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # autoconfig/
_HEADING = re.compile(r"^(#{1,6}) +(.+?) *$")
_FENCE = re.compile(r"^(```|~~~)")


def docs_dir() -> Path | None:
    """The folder of pages: the package's, else a source checkout's ``docs/``."""
    for folder in (PACKAGE_DIR / "docs", PACKAGE_DIR.parent / "docs"):
        if (folder / "README.md").is_file():
            return folder
    return None


def topics(folder: Path) -> list[str]:
    """Every page's name, without ``.md``; ``README`` (the index) is the empty topic."""
    return sorted(page.stem for page in folder.glob("*.md") if page.stem != "README")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def headings(text: str) -> list[tuple[int, int, str]]:
    """(line index, level, anchor) of every heading outside code blocks."""
    found = []
    fenced = False
    for index, line in enumerate(text.splitlines()):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            found.append((index, len(match.group(1)), slug(match.group(2))))
    return found


def section(text: str, anchor: str) -> str | None:
    """The text from the heading with ``anchor`` to the next heading of its level or above."""
    lines = text.splitlines(keepends=True)
    marks = headings(text)
    for position, (start, level, name) in enumerate(marks):
        if name == anchor:
            end = next((i for i, lvl, _ in marks[position + 1:] if lvl <= level), len(lines))
            return "".join(lines[start:end])
    return None


@click.command("docs")
@click.argument("topic", required=False)
def docs(topic: str | None) -> None:
    """Print a page of the documentation: TOPIC, or TOPIC#SECTION for one section.

    Without TOPIC: the index and the list of topics. Messages of `autoconfig check`,
    `dns` and `probe` name the page to read this way, e.g. `autoconfig docs dns#certificates`.
    """
    folder = docs_dir()
    if folder is None:
        raise click.ClickException(
            "this installation of autoconfig carries no documentation pages (reinstall it"
            " from a wheel or sdist built with `python -m build`)"
        )
    if topic is None:
        click.echo((folder / "README.md").read_text(encoding="utf-8"), nl=False)
        click.echo("\nTopics: " + ", ".join(topics(folder)))
        return
    name, _, anchor = topic.partition("#")
    name = name.removesuffix(".md")
    if name not in topics(folder):
        raise click.ClickException(
            f"no page {name!r}; topics: {', '.join(topics(folder))}"
        )
    text = (folder / f"{name}.md").read_text(encoding="utf-8")
    if anchor:
        part = section(text, anchor)
        if part is None:
            sections = ", ".join(f"{name}#{a}" for _, _, a in headings(text)[1:])
            raise click.ClickException(f"no section {anchor!r} in {name}; sections: {sections}")
        text = part
    click.echo(text, nl=not text.endswith("\n"))
