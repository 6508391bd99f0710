"""100 000 random and hostile requests: never a 5xx, and the server keeps answering.

The requests (tests/support/fuzz_requests.py) mutate every route's path, query, Host,
headers and body. They go to the installed wheel twice: in-process through its WSGI
application, all 100 000 (a 5xx is a bug, whatever the input), and as raw HTTP bytes
to the installed server under gunicorn, a sample, so gunicorn's own parsing of broken
request lines and headers is covered too.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections import Counter
from urllib.parse import urlsplit

from tests.support.fuzz_requests import requests
from tests.support.http import request
from tests.support.installed import decoy_directory, installed_venv
from tests.support.paths import DOMAINS, REPO
from tests.support.server import RunningServer

SEED = 20261206
IN_PROCESS = 100_000
OVER_HTTP = 2_000


def test_a_hundred_thousand_requests_in_process_get_no_5xx() -> None:
    script = REPO / "tests" / "support" / "fuzz_requests.py"
    result = subprocess.run(
        [str(installed_venv() / "bin" / "python"), "-I", str(script), str(DOMAINS), str(SEED),
         str(IN_PROCESS)],
        capture_output=True, text=True, timeout=600, check=False, cwd=decoy_directory(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    statuses = Counter({int(status): count for status, count in report["statuses"].items()})
    assert sum(statuses.values()) == IN_PROCESS
    assert report["server_errors"] == [], report["server_errors"]
    assert not [status for status in statuses if status >= 500], statuses
    # The requests reach the answers, not only the router: each kind of outcome occurs.
    assert {200, 301, 304, 400, 404, 405, 415} <= set(statuses), statuses
    assert "Traceback" not in result.stderr


def _raw(method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> bytes:
    target = path + (f"?{query}" if query else "")
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("utf-8", "surrogatepass") + body


def _status(port: int, raw: bytes) -> int | None:
    """The status the server answered, None when it closed without a status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(raw)
        received = b""
        while b"\r\n" not in received:
            chunk = connection.recv(4096)
            if not chunk:
                break
            received += chunk
    line = received.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 and line[0].startswith(b"HTTP/") else None


def test_raw_requests_to_the_installed_server_get_no_5xx(bundled_server: RunningServer) -> None:
    port = urlsplit(bundled_server.base).port
    assert port is not None
    statuses = Counter(_status(port, _raw(*one)) for one in requests(SEED + 1, OVER_HTTP))
    assert not [s for s in statuses if s is not None and s >= 500], statuses
    assert statuses[200] > 0 and statuses[400] > 0 and statuses[404] > 0, statuses
    assert request(bundled_server.base, "/healthz").status == 200  # still serving
    assert "Traceback" not in bundled_server.log()
