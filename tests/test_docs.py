"""The documentation: generated references equal to the code, links that lead somewhere,
a short README, and `autoconfig docs` pages for every reference the package prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from autoconfig.cli import main
from autoconfig.cli.docs import docs_dir, headings, section, topics
from tests.support.paths import REPO
from tests.support.reference import (
    CLI_PAGE,
    DOMAIN_FILES_PAGE,
    REGENERATE,
    cli_reference,
    domain_file_reference,
    generated_part,
)

README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
# [text](target): relative targets only; web addresses are not checked here.
LINK = re.compile(r"\]\(([^)\s]+)\)")
# What a message of the package names: `autoconfig docs TOPIC` or `...TOPIC#SECTION`.
DOCS_REFERENCE = re.compile(r"autoconfig docs ([a-z][a-z0-9-]*)(?:#([a-z0-9-]+))?")


@pytest.mark.parametrize(
    ("page", "generate"),
    [(CLI_PAGE, cli_reference), (DOMAIN_FILES_PAGE, domain_file_reference)],
    ids=["cli", "domain-files"],
)
def test_generated_reference_is_up_to_date(page: Path, generate: object) -> None:
    assert callable(generate)
    assert generated_part(page) == generate(), (
        f"{page.relative_to(REPO)} differs from the code: regenerate it with `{REGENERATE}`"
    )


def test_the_cli_reference_names_every_command() -> None:
    text = CLI_PAGE.read_text()
    for name in main.commands:
        assert f"### `autoconfig {name}`" in text


def test_the_readme_is_short() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move detail into docs/"


def test_no_install_line_fetches_a_distribution_by_name() -> None:
    """Every `pip install` in the README and docs installs a path (the clone, a wheel):
    the package is not on PyPI, and the `autoconfig` there is an unrelated project."""
    by_name = [
        (page.name, line)
        for page in PAGES
        for line in page.read_text().splitlines()
        if re.search(r"pip install +['\"]?[A-Za-z]", line)
    ]
    assert by_name == []
    assert any("pip install ." in page.read_text() for page in PAGES)


def _anchors(path: Path) -> set[str]:
    return {anchor for _, _, anchor in headings(path.read_text())}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(REPO).as_posix())
def test_relative_links_lead_to_files_and_headings(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):  # https:, http:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no such heading")
    # architecture.md is the lead's page; until it lands, a link to it is expected to wait.
    broken = [item for item in broken if not item.startswith("architecture.md")
              and not item.startswith("docs/architecture.md")]
    assert broken == []


def test_the_package_points_only_at_pages_that_exist() -> None:
    folder = docs_dir()
    assert folder is not None
    references = {
        (path.relative_to(REPO).as_posix(), match.group(1), match.group(2))
        for path in (REPO / "autoconfig").rglob("*.py")
        for match in DOCS_REFERENCE.finditer(path.read_text())
    }
    assert references  # the messages do point at pages
    missing = []
    for where, topic, anchor in sorted(references):
        if topic not in topics(folder):
            missing.append(f"{where}: no page {topic}")
        elif anchor and section((folder / f"{topic}.md").read_text(), anchor) is None:
            missing.append(f"{where}: no section {topic}#{anchor}")
    assert missing == []


def test_docs_command_prints_a_page_a_section_and_the_index() -> None:
    runner = CliRunner()
    index = runner.invoke(main, ["docs"])
    assert index.exit_code == 0
    assert "Topics: " in index.output
    assert "domain-files" in index.output
    page = runner.invoke(main, ["docs", "settings"])
    assert page.output == (REPO / "docs" / "settings.md").read_text()
    part = runner.invoke(main, ["docs", "dns#certificates"])
    assert part.exit_code == 0
    assert part.output.startswith("## Certificates\n")
    assert "## MX hosting" not in part.output


def test_docs_command_names_what_exists_when_asked_for_what_does_not() -> None:
    runner = CliRunner()
    page = runner.invoke(main, ["docs", "nginx"])
    assert page.exit_code == 1
    assert "no page 'nginx'; topics: " in page.output
    assert "operating" in page.output
    part = runner.invoke(main, ["docs", "dns#nothing"])
    assert part.exit_code == 1
    assert "dns#certificates" in part.output
