"""Where the repository, its bundled domains and the vendored reference data live."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOMAINS = REPO / "domains"
TEST_DATA = REPO / "tests" / "data"
# Real data nobody on this project wrote, each folder with its licence and provenance.
ISPDB = TEST_DATA / "ispdb"
APPLE_SCHEMA = TEST_DATA / "apple-schema"
