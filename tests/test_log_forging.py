"""Forged log lines and addresses, sent over raw sockets to the installed server.

A decoded path holding a newline used to write a second, forged access line; gunicorn's
own "Invalid request line" warning quoted the request line, address included. Each
request here must add exactly the lines expected (one access line, or one warning), in
the text format and in the JSON one (AUTOCONFIG_LOG_FORMAT=json), with no control
character and no address anywhere in the log.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.installed import decoy_directory, installed_venv
from tests.support.paths import DOMAINS
from tests.support.server import RunningServer, run_server

LOCAL_PART = "bob.forger"
# What a forger wants to read as a line of its own.
FORGED = '127.0.0.1 [06/Dec/2026:04:00:00 +0000] "GET /admin" 200 1 1ms'
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # any but the line's own newline


@pytest.fixture(scope="module", params=["text", "json"])
def logged_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """The installed server with one worker (its lines come in order), in either format."""
    log = tmp_path_factory.mktemp(f"log-{request.param}") / "server.log"
    env = {"AUTOCONFIG_LOG_FORMAT": request.param}
    with run_server(DOMAINS, log, env=env, workers=1) as server:
        yield server


def is_json(server: RunningServer) -> bool:
    return server.log().startswith("{")


def send(server: RunningServer, raw: bytes) -> bytes:
    """``raw`` on a fresh connection; the status line of the answer."""
    port = urlsplit(server.base).port
    assert port is not None
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(raw)
        return connection.recv(65536).split(b"\r\n", 1)[0]


def lines_after(server: RunningServer, raw: bytes, expected: int) -> list[str]:
    """The lines the log gained from ``raw``: waits for ``expected`` of them, then a
    moment more, so a forged extra line would be counted too."""
    before = len(server.log().splitlines())
    send(server, raw)
    deadline = time.monotonic() + 5
    while len(server.log().splitlines()) < before + expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    return server.log().splitlines()[before:]


def get(target: bytes) -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"


def test_a_newline_in_the_path_forges_no_line(logged_server: RunningServer) -> None:
    path = b"/x%0A" + FORGED.replace(" ", "%20").replace('"', "%22").encode()
    (line,) = lines_after(logged_server, get(path), expected=1)
    if is_json(logged_server):
        assert json.loads(line)["path"] == "/x\n" + FORGED
    else:
        assert line.startswith('127.0.0.1 [')
        assert line.endswith("ms")
        assert "/x\\n" + FORGED.replace('"', '\\"') + '" 404' in line  # gunicorn's \"
    assert_clean(logged_server)


@pytest.mark.parametrize(
    ("encoded", "control"),
    [(b"%0A", "\n"), (b"%0D", "\r"), (b"%00", "\x00"), (b"%1B[2J", "\x1b"),
     (b"%0D%0A", "\r\n"), (b"%C2%85", "\x85")],
)
def test_controls_in_the_path_are_escaped(
    logged_server: RunningServer, encoded: bytes, control: str
) -> None:
    path = b"/mail/config-v1.1.xml" + encoded + b"tail"
    (line,) = lines_after(logged_server, get(path), expected=1)
    if is_json(logged_server):
        assert control in json.loads(line)["path"]
    else:
        assert "config-v1.1.xml" in line
        assert "tail" in line
    assert_clean(logged_server)


@pytest.mark.parametrize(
    "raw",
    [
        # An invalid request line, gunicorn quotes it in its warning.
        f"GET /?emailaddress={LOCAL_PART}@example.com HTTP/1.1 extra\r\nHost: a\r\n\r\n",
        f"GET /?Email={LOCAL_PART}%40example.com\x1b[2J HTTP/1.1\r\nHost: a\r\n\r\n",
        f"{LOCAL_PART}@example.com\n\n",
        # Invalid headers, quoted too.
        f"GET / HTTP/1.1\r\nHost: a\r\nX-Email {LOCAL_PART}@example.com\r\n\r\n",
        f"GET / HTTP/1.1\r\nHost: a\r\nX-{LOCAL_PART}@example.com: 1\r\n\r\n",
        f"GET / HTTP/1.1\r\nHost: a\r\nX-Email: {LOCAL_PART}@example.com\x00\x1b\r\n\r\n",
    ],
)
def test_gunicorns_warnings_hold_no_address(logged_server: RunningServer, raw: str) -> None:
    (line,) = lines_after(logged_server, raw.encode("latin-1"), expected=1)
    if is_json(logged_server):
        record = json.loads(line)
        assert record["level"] == "warning"
        assert record["logger"] == "gunicorn.error"
        assert record["message"].startswith("Invalid request from ip=127.0.0.1")
    else:
        assert "[WARNING] Invalid request from ip=127.0.0.1" in line
    assert_clean(logged_server)


def test_an_address_in_the_v2_path_with_a_newline(logged_server: RunningServer) -> None:
    path = f"/autodiscover/autodiscover.json/v1.0/{LOCAL_PART}@example.com%0A{FORGED}"
    (line,) = lines_after(logged_server, get(path.replace(" ", "%20").encode()), expected=1)
    assert "/autodiscover/autodiscover.json/v1.0/<address>" in line
    assert_clean(logged_server)


def assert_clean(server: RunningServer) -> None:
    """No address, no control character, and in JSON every line one object."""
    log = server.log()
    assert LOCAL_PART not in log
    assert not CONTROLS.search(log)
    lines = log.splitlines()
    assert not [line for line in lines if line.startswith(FORGED)]
    if is_json(server):
        for line in lines:
            json.loads(line)


def test_every_line_of_the_log_is_one_record(logged_server: RunningServer) -> None:
    """Start-up lines too: ours and gunicorn's, in the chosen format."""
    lines = Path(logged_server.log_path).read_text().splitlines()
    assert any("Booting worker" in line for line in lines)
    if is_json(logged_server):
        loggers = {json.loads(line)["logger"] for line in lines}
        assert {"autoconfig", "gunicorn.error", "gunicorn.access"} <= loggers
    assert_clean(logged_server)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_librarys_warning_is_masked_too(log_format: str) -> None:
    """A record of a logger that is not ours reaches the same filter (the root handler)."""
    code = (
        "import logging\n"
        "from autoconfig.server.app import _configure_logging\n"
        f"_configure_logging({log_format!r})\n"
        "logging.getLogger('some.library').warning("
        f"'a %s', '{LOCAL_PART}@example.com\\n{FORGED}')\n"
        "logging.getLogger('autoconfig').info('ours\\x1b[2J')\n"
    )
    result = subprocess.run(
        [str(installed_venv() / "bin" / "python"), "-I", "-c", code],
        capture_output=True, text=True, check=True, cwd=decoy_directory(),
    )
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert LOCAL_PART not in result.stderr
    assert not CONTROLS.search(result.stderr)
    if log_format == "json":
        assert json.loads(lines[0])["message"] == f"a <address>\n{FORGED}"
        assert json.loads(lines[1])["message"] == "ours\x1b[2J"
    else:
        assert lines[0].endswith(f"some.library: a <address>\\n{FORGED}")
        assert lines[1].endswith("autoconfig: ours\\x1b[2J")
