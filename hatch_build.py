"""hatchling build hook: compile the settings page's message catalogs (.po to .mo), and
put the documentation pages into the wheel (autoconfig/docs/, for `autoconfig docs`).

The .po files under autoconfig/translations/ are the source and live in git; the .mo
files Flask-Babel reads are build output, compiled here for every wheel, sdist and
editable install and added as artifacts (they are git-ignored). `make translations`
does the same for a working tree after editing a catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

CATALOGS = "autoconfig/translations/*/LC_MESSAGES/messages.po"
# The documentation pages, which `autoconfig docs TOPIC` prints from the package.
PAGES = "docs/*.md"


class CatalogBuildHook(BuildHookInterface):
    """Compile each catalog next to its source before hatchling collects the files."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Write messages.mo beside each messages.po; fuzzy entries stay out."""
        for source in sorted(Path(self.root).glob(CATALOGS)):
            with source.open("rb") as po_file:
                catalog = read_po(po_file)
            with source.with_suffix(".mo").open("wb") as mo_file:
                write_mo(mo_file, catalog, use_fuzzy=False)
        build_data["artifacts"].append("autoconfig/translations/*/LC_MESSAGES/*.mo")
        if self.target_name == "wheel":
            for page in sorted(Path(self.root).glob(PAGES)):
                build_data["force_include"][str(page)] = f"autoconfig/docs/{page.name}"
