"""The shape the package keeps (docs/architecture.md): a small root, each path declared once.

The layers themselves are checked by import-linter (`make lint`, pyproject.toml).
"""

from __future__ import annotations

from autoconfig.answers import routes
from tests.support.paths import REPO

PACKAGE = REPO / "autoconfig"
SERVING = ("answers", "server", "web")


def test_the_package_root_holds_at_most_ten_modules() -> None:
    modules = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(modules) <= 10, modules


def test_the_serving_code_declares_each_path_in_the_route_table_only() -> None:
    declared_elsewhere = []
    for route in routes.ROUTES:
        literal = route.path.partition("{")[0]
        if literal in ("/", "/apple"):  # too short to find by text; matched by name below
            continue
        for folder in SERVING:
            for path in (PACKAGE / folder).rglob("*.py"):
                if path.name == "routes.py":
                    continue
                for number, line in enumerate(path.read_text().splitlines(), 1):
                    code = line.split("#", 1)[0]
                    if f'"{literal}' in code or f"'{literal}" in code:
                        declared_elsewhere.append(f"{path.relative_to(REPO)}:{number}: {line}")
    assert declared_elsewhere == []


def test_route_names_and_paths_are_unique() -> None:
    names = [route.name for route in routes.ROUTES]
    paths = [route.path.lower() for route in routes.ROUTES]
    assert len(set(names)) == len(names)
    assert len(set(paths)) == len(paths)
