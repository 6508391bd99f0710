"""Where the repository, its bundled domains and the shared reference data live."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOMAINS = REPO / "domains"
TEST_DATA = REPO / "tests" / "data"
SHARED = REPO.parent / "shared"


def shared_data(name: str) -> Path:
    """A folder of ../shared/data; a missing one fails the test (never a skip)."""
    path = SHARED / "data" / name
    if not path.is_dir():
        raise AssertionError(f"{path} is missing: the tests need the shared reference data")
    return path
