"""axe-core, the accessibility rules engine, installed from npm for the browser tests.

Pinned, installed by the test set-up itself (npm from Debian's ``npm`` package, into a
scratch folder), so CI and developers run the same rules. The script is injected through
WebDriver, which the page's Content-Security-Policy does not govern; the page itself
still runs no script.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from selenium.webdriver.remote.webdriver import WebDriver

from tests.support.system import require_program

AXE_CORE = "axe-core@4.14.1"
# WCAG 2.0, 2.1 and 2.2 A and AA, plus axe's best practices (landmarks, headings).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def install_axe(folder: Path) -> str:
    """The source of axe.min.js, installed with npm into ``folder``."""
    npm = require_program("npm", "npm")
    subprocess.run(
        [str(npm), "install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts",
         "--prefix", str(folder), AXE_CORE],
        check=True, capture_output=True, timeout=300,
    )
    return (folder / "node_modules" / "axe-core" / "axe.min.js").read_text()


def axe_violations(driver: WebDriver, axe_source: str) -> list[dict[str, Any]]:
    """Run axe on the current page; each violation with its rule id and the nodes' HTML."""
    driver.execute_script(axe_source)
    result: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        "  .then(r => done({passes: r.passes.length,"
        "    violations: r.violations.map(v => ({id: v.id, help: v.help,"
        "    nodes: v.nodes.map(n => n.html)}))}))"
        "  .catch(e => done({error: String(e)}));",
        AXE_TAGS,
    )
    assert "error" not in result, result
    assert result["passes"] > 10, result  # the rules ran, on a real page
    violations: list[dict[str, Any]] = result["violations"]
    return violations
