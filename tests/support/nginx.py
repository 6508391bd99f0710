"""Run the project's own nginx config (nginx/) on loopback with a test CA.

The shipped files are rendered the way an admin fills them (step 7 of the README's
"Serve your own domain"): placeholders replaced, listen ports moved to loopback test
ports. Nothing else changes, except explicit ``overrides`` (each must match the shipped text, so a
test cannot drift from the config it claims to test).
"""

from __future__ import annotations

import http.client
import os
import pwd
import re
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.http import Reply, free_port, send
from tests.support.paths import REPO
from tests.support.pki import LoopbackPKI
from tests.support.system import require_program, stop_process

NGINX_DIR = REPO / "nginx"
SITE = "autoconfig.conf"
TEST_NAMES = (
    "autoconfig.example.com", "autodiscover.example.com", "example.com",
    "autoconfig.example.org", "autodiscover.example.org", "example.org",
)
_PLACEHOLDER = re.compile(r"@[A-Z_]+@")


def render_site(
    target: Path,
    *,
    pki: LoopbackPKI,
    backends: Sequence[str],
    http_port: int,
    https_port: int,
    overrides: Mapping[str, str] | None = None,
) -> Path:
    """Fill every nginx/*.conf into ``target`` as an admin would; return the site file."""
    target.mkdir(parents=True, exist_ok=True)
    cache, logs = target / "cache", target / "logs"
    cache.mkdir(exist_ok=True)
    logs.mkdir(exist_ok=True)
    values = {"@CERT@": str(pki.cert), "@KEY@": str(pki.key), "@CONF_DIR@": str(target),
              "@CACHE_DIR@": str(cache), "@LOG_DIR@": str(logs)}
    used: set[str] = set()
    for source in sorted(NGINX_DIR.glob("*.conf")):
        lines: list[str] = []
        for line in source.read_text().splitlines():
            if "@BACKEND@" in line and not line.lstrip().startswith("#"):
                lines += [line.replace("@BACKEND@", backend) for backend in backends]
            elif re.match(r"\s*listen \[::\]:", line):
                continue  # loopback IPv4 only in tests
            else:
                lines.append(
                    re.sub(r"^(\s*listen )80;", rf"\g<1>127.0.0.1:{http_port};",
                           re.sub(r"^(\s*listen )443 ", rf"\g<1>127.0.0.1:{https_port} ", line))
                )
        text = "\n".join(lines) + "\n"
        for old, new in values.items():
            text = text.replace(old, new)
        for old, new in (overrides or {}).items():
            if old in text:
                used.add(old)
                text = text.replace(old, new)
        stray = [x for x in re.findall(r"^\s*listen ([^;]*);", text, re.M)
                 if not x.startswith("127.0.0.1:")]
        if stray:
            raise AssertionError(f"{source.name}: listen lines not moved to loopback: {stray}")
        leftover = [p for p in _PLACEHOLDER.findall(text) if not _in_comment(text, p)]
        if leftover:
            raise AssertionError(f"{source.name}: unfilled placeholders {leftover}")
        (target / source.name).write_text(text)
    if unused := set(overrides or {}) - used:
        raise AssertionError(f"overrides not found in the shipped config: {sorted(unused)}")
    return target / SITE


def _in_comment(text: str, placeholder: str) -> bool:
    return all(
        line.lstrip().startswith("#") for line in text.splitlines() if placeholder in line
    )


@dataclass
class RunningNginx:
    """An nginx master serving the rendered config from its own prefix directory."""

    prefix: Path
    http_port: int
    https_port: int
    process: subprocess.Popen[bytes]

    def access_log(self) -> str:
        """The shipped config's access log (autoconfig_private format) so far."""
        path = self.prefix / "site" / "logs" / "autoconfig-access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_access_log(self, text: str, timeout: float = 5.0) -> str:
        """The access log once it holds ``text``: nginx writes a line only after it has
        finished with the connection (e.g. drained a refused body), not with the reply."""
        deadline = time.monotonic() + timeout
        while text not in (log := self.access_log()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return log

    def error_log(self) -> str:
        """nginx's error log so far (for failure messages)."""
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def main_config(prefix: Path, site: Path, extra: str = "", workers: int = 1) -> str:
    """An nginx.conf running from ``prefix`` (pid, logs, temp files) that includes ``site``."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes {workers};
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type application/octet-stream;
{temp}
    include {site};
{extra}
}}
"""


@contextmanager
def run_nginx(
    prefix: Path,
    *,
    pki: LoopbackPKI,
    backends: Sequence[str],
    overrides: Mapping[str, str] | None = None,
    extra_http: str = "",
    workers: int = 1,
) -> Iterator[RunningNginx]:
    """Render the shipped site for loopback ports, check it with ``nginx -t``, run it.

    ``extra_http`` is added to the http block after filling @HTTPS_PORT@, @SITE_DIR@,
    @CERT@ and @KEY@ (a website server that includes the admins' snippet, say).
    """
    nginx = require_program("nginx", "nginx")
    http_port, https_port = free_port(), free_port()
    site = render_site(prefix / "site", pki=pki, backends=backends, http_port=http_port,
                       https_port=https_port, overrides=overrides)
    extra = (extra_http.replace("@HTTPS_PORT@", str(https_port))
             .replace("@SITE_DIR@", str(site.parent))
             .replace("@CERT@", str(pki.cert)).replace("@KEY@", str(pki.key)))
    config = prefix / "nginx.conf"
    config.write_text(main_config(prefix, site, extra, workers))
    command = [str(nginx), "-p", str(prefix), "-c", str(config)]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    if checked.returncode != 0:
        raise AssertionError(f"nginx -t refused the rendered config:\n{checked.stderr}")
    with (prefix / "error.log").open("ab") as early_errors:  # before error_log is open
        process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=early_errors)
    running = RunningNginx(prefix, http_port, https_port, process)
    try:
        _wait_listening(running)
        yield running
    finally:
        stop_process(process, signal.SIGQUIT)  # graceful: finish requests in flight


def _wait_listening(running: RunningNginx, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if running.process.poll() is not None:
            raise AssertionError(f"nginx exited:\n{running.error_log()}")
        try:
            with socket.create_connection(("127.0.0.1", running.https_port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx is not listening:\n{running.error_log()}") from None
            time.sleep(0.05)


class _LoopbackHTTPS(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 while TLS (SNI, certificate check) uses the real host name."""

    def __init__(self, name: str, port: int, context: ssl.SSLContext, source: str | None,
                 timeout: float) -> None:
        super().__init__(name, port, context=context, timeout=timeout)
        self._tls_context = context
        self._source = source

    def connect(self) -> None:
        raw = socket.create_connection(
            ("127.0.0.1", self.port), self.timeout,
            (self._source, 0) if self._source else None,
        )
        self.sock = self._tls_context.wrap_socket(raw, server_hostname=self.host)


def https_request(
    port: int,
    host: str,
    path: str,
    *,
    ca: Path,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    source: str | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request to ``https://host/path`` with ``host`` resolved to 127.0.0.1:``port``.

    The certificate is verified against the test CA and ``host``; ``source`` picks the
    client's loopback address (e.g. 127.0.0.2), so the proxy's client address shows.
    """
    context = ssl.create_default_context(cafile=str(ca))
    connection = _LoopbackHTTPS(host, port, context, source, timeout)
    return send(connection, method, path, {"Host": host, **(headers or {})}, body)


def http_request(port: int, host: str, path: str, *, method: str = "GET") -> Reply:
    """One plain-http request to 127.0.0.1:``port`` with ``Host: host``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers={"Host": host})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()
