"""/metrics under the real gunicorn with two workers: the counts add up, labels stay bounded."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autoconfig.answers.metrics import (
    CACHE_RESULTS,
    FAMILIES,
    MX_RESULTS,
    OTHER_FAMILY,
    RELOAD_RESULTS,
    STATUS_CLASSES,
)
from autoconfig.answers.routes import ROUTES
from autoconfig.directory.failures import Kind
from autoconfig.directory.lookup import LOOKUP_RESULTS
from autoconfig.distribution import installed_version
from tests.support.http import Reply, request
from tests.support.server import RunningServer, run_server
from tests.support.system import wait_for

THUNDERBIRD = "/mail/config-v1.1.xml?emailaddress=alice@example.com"
V2 = "/autodiscover/autodiscover.json/v1.0/bob@unknown.example?Protocol=AutodiscoverV1"
POX = (
    b'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
    b'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>carol@example.com'
    b"</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/"
    b"outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
)
SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, keyed by name and label set."""
    found = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        match = SAMPLE.match(line)
        assert match, f"unparsable line: {line!r}"
        labels = frozenset(
            tuple(pair.split("=", 1)) for pair in (match["labels"] or "").split(",") if pair
        )
        found[(match["name"], frozenset((k, v.strip('"')) for k, v in labels))] = float(
            match["value"]
        )
    return found


def value(scrape: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


def scrape(server: RunningServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    reply = request(server.base, "/metrics")
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/plain; version=1.0.0; charset=utf-8"
    return samples(reply.text)


def build_info(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float],
               ) -> list[tuple[str, float]]:
    """The build-info series: (version label, value) each; the python label is a version."""
    found = []
    for (name, labels), number in scraped.items():
        if name == "autoconfig_build_info":
            label = dict(labels)
            assert set(label) == {"version", "python"}
            assert re.fullmatch(r"3\.\d+\.\d+\S*", label["python"]), label
            found.append((label["version"], number))
    return found


def worker_pids(server: RunningServer) -> list[int]:
    return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", server.log())]


def test_counts_add_up_across_two_workers_and_no_label_names_a_user(
    domains_copy: Path, tmp_path: Path
) -> None:
    env = {"TMPDIR": str(tmp_path)}  # where serve makes its metrics directory
    with run_server(domains_copy, tmp_path / "server.log", env=env, workers=2) as server:
        metrics_dirs = list(tmp_path.glob("autoconfig-metrics-*"))
        assert len(metrics_dirs) == 1
        assert wait_for(lambda: len(worker_pids(server)) == 2)  # the second may boot later
        pids = worker_pids(server)

        def thunderbird(_: int) -> Reply:
            return request(server.base, THUNDERBIRD)

        rounds = 0
        # Fresh connections from 8 threads: both workers accept some. Each worker writes
        # its own file once it counts a request; keep going until both have (bounded).
        while rounds < 10 and not all(
            (metrics_dirs[0] / f"counter_{pid}.db").exists() for pid in pids
        ):
            with ThreadPoolExecutor(8) as pool:
                assert {r.status for r in pool.map(thunderbird, range(40))} == {200}
            rounds += 1
        assert all((metrics_dirs[0] / f"counter_{pid}.db").exists() for pid in pids)
        sent = 40 * rounds

        assert request(server.base, V2).status == 404
        pox = request(server.base, "/autodiscover/autodiscover.xml", method="POST", body=POX,
                      headers={"Content-Type": "text/xml"})
        assert pox.status == 200
        assert request(server.base, "/apple/profile.mobileconfig?emailaddress=d@example.com")\
            .status == 200
        assert request(server.base, "/?emailaddress=erin@example.org").status == 200
        assert request(server.base, "/no/such/path/alice@example.com").status == 404

        first = scrape(server)
        assert value(first, "autoconfig_requests_total", family="thunderbird", status="2xx") \
            == sent
        assert value(first, "autoconfig_request_duration_seconds_count", family="thunderbird") \
            == sent
        assert value(first, "autoconfig_requests_total", family="autodiscover_v2", status="4xx") \
            == 1
        assert value(first, "autoconfig_requests_total", family="autodiscover_pox", status="2xx") \
            == 1
        assert value(first, "autoconfig_requests_total", family="apple_profile", status="2xx") == 1
        assert value(first, "autoconfig_requests_total", family="page", status="2xx") == 1
        assert value(first, "autoconfig_requests_total", family="other", status="4xx") == 1
        assert value(first, "autoconfig_config_generation") == 1
        assert value(first, "autoconfig_config_domains") == 6
        assert value(first, "autoconfig_config_files_with_errors") == 0
        assert 0 < value(first, "autoconfig_config_load_seconds") < 5
        # One build-info series with value 1, though the master and two workers run.
        assert build_info(first) == [(installed_version(), 1)]
        assert value(first, "autoconfig_reloads_total", result="succeeded") == 0

        # Every scrape, whichever worker answers it, sees the same sums (+ the scrapes).
        for _ in range(6):
            again = scrape(server)
            assert value(again, "autoconfig_requests_total", family="thunderbird", status="2xx") \
                == sent

        # Labels come from fixed sets: no address, domain or path ever becomes one.
        allowed = {
            "family": set(FAMILIES) | {OTHER_FAMILY},
            "status": set(STATUS_CLASSES),
            "result": {*RELOAD_RESULTS, *MX_RESULTS, *LOOKUP_RESULTS, *CACHE_RESULTS},
            "kind": {kind.value for kind in Kind},
            "version": {installed_version()},
            "python": {python for (name, labels) in again if name == "autoconfig_build_info"
                       for label, python in labels if label == "python"},
        }
        for (_name, labels) in again:
            for label, text in labels:
                if label == "le":
                    assert text == "+Inf" or float(text) > 0
                else:
                    assert text in allowed[label], (label, text)
        assert "@" not in request(server.base, "/metrics").text

        # A reload counts once: gunicorn's master reloads, then replaces the workers.
        example = domains_copy / "example.com.yaml"
        example.write_text(example.read_text().replace("mail.example.com", "imap.example.com"))
        assert wait_for(lambda: value(scrape(server), "autoconfig_reloads_total",
                                      result="succeeded") == 1)
        after = scrape(server)
        assert value(after, "autoconfig_config_generation") == 2
        assert value(after, "autoconfig_config_domains") == 6
        assert build_info(after) == [(installed_version(), 1)]  # new workers, still one

        # The replaced workers ended: they keep their counts, their live gauges are
        # dropped (child_exit -> mark_process_dead).
        assert wait_for(lambda: not any(
            list(metrics_dirs[0].glob(f"gauge_live*_{pid}.db")) for pid in pids
        ), timeout=30)
        assert all((metrics_dirs[0] / f"counter_{pid}.db").exists() for pid in pids)
        assert value(scrape(server), "autoconfig_requests_total", family="thunderbird",
                     status="2xx") == sent
        assert value(scrape(server), "autoconfig_config_generation") == 2
        (domains_copy / "broken.yaml").write_text("name: Broken\ndomains: [broken.example]\n")
        assert wait_for(lambda: value(scrape(server), "autoconfig_config_files_with_errors") == 1)

        # Every file gone: the reload is refused, the last good configuration keeps serving.
        for path in domains_copy.glob("*.yaml"):
            path.unlink()
        assert wait_for(lambda: value(scrape(server), "autoconfig_reloads_total",
                                      result="refused") == 1)
        assert request(server.base, THUNDERBIRD).status == 200

        # A worker that is stopped (gunicorn starts another) keeps its counts; its live
        # gauges are dropped. Three reloads so far (two accepted, one refused), each
        # followed by a new pair of workers: the old ones yielded the CPU to the reload.
        assert wait_for(lambda: len(worker_pids(server)) == 8)
        before = value(scrape(server), "autoconfig_requests_total", family="thunderbird",
                       status="2xx")
        assert before == sent + 1
        counted = [pid for pid in worker_pids(server)[-2:]
                   if list(metrics_dirs[0].glob(f"gauge_live*_{pid}.db"))]
        assert counted  # the one that answered since
        os.kill(counted[0], signal.SIGTERM)
        assert wait_for(lambda: len(worker_pids(server)) == 9)
        assert wait_for(lambda: not list(metrics_dirs[0].glob(f"gauge_live*_{counted[0]}.db")))
        assert (metrics_dirs[0] / f"counter_{counted[0]}.db").exists()
        assert value(scrape(server), "autoconfig_requests_total", family="thunderbird",
                     status="2xx") == before
    assert not metrics_dirs[0].exists()  # serve removes its directory when it stops


def test_in_process_app_counts_in_its_own_registry(tmp_path: Path) -> None:
    # Two apps in one process (as tests build them) must not share or clash.
    from werkzeug.test import Client  # noqa: PLC0415

    from autoconfig import create_app  # noqa: PLC0415
    from autoconfig.settings import Settings  # noqa: PLC0415
    from tests.support.paths import DOMAINS  # noqa: PLC0415

    settings = Settings(domains=DOMAINS, reload_interval=0)
    first, second = create_app(settings), create_app(settings)
    assert Client(first).get(THUNDERBIRD).status_code == 200
    text = Client(second).get("/metrics").text
    assert 'autoconfig_requests_total{family="thunderbird",status="2xx"}' not in text
    text = Client(first).get("/metrics").text
    assert 'autoconfig_requests_total{family="thunderbird",status="2xx"} 1.0' in text


def test_every_route_is_counted_under_its_own_family() -> None:
    """Each route of the table, asked once, adds one request to its family; none to other."""
    from werkzeug.test import Client  # noqa: PLC0415

    from autoconfig import create_app  # noqa: PLC0415
    from autoconfig.settings import Settings  # noqa: PLC0415
    from tests.support.paths import DOMAINS  # noqa: PLC0415

    assert {route.family for route in ROUTES} == set(FAMILIES)  # no family left unused
    assert OTHER_FAMILY not in FAMILIES
    client = Client(create_app(Settings(domains=DOMAINS, reload_interval=0)))
    for route in ROUTES:
        path = route.url(domain="example.com", address="alice@example.com")
        method = next(iter(route.answers), "GET")
        assert client.open(path, method=method).status_code < 500, route.name
    scraped = samples(client.get("/metrics").text)  # counted after its own answer
    counted: Counter[str] = Counter()
    for (name, labels), number in scraped.items():
        if name == "autoconfig_requests_total":
            counted[dict(labels)["family"]] += int(number)
    assert counted == Counter(route.family for route in ROUTES)
    assert build_info(scraped) == [(installed_version(), 1)]


BUILD_INFO_IN_TWO_PROCESSES = """
import os
from autoconfig.answers.metrics import Metrics
first = Metrics()  # the master's
child = os.fork()
if child == 0:
    Metrics()  # a worker that builds its own: writes the gauge under its own pid
    os._exit(0)
os.waitpid(child, 0)
print(first.exposition()[0].decode())
"""


def test_build_info_shows_once_whatever_number_of_processes_set_it(tmp_path: Path) -> None:
    """Two processes each write 1: the multiprocess mode shows 1, not 2 nor one per pid."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", BUILD_INFO_IN_TWO_PROCESSES], env=env,
                            capture_output=True, text=True, timeout=60, check=True)
    assert len({path.stem.rsplit("_", 1)[1] for path in tmp_path.glob("gauge_*.db")}) == 2
    assert build_info(samples(result.stdout)) == [(installed_version(), 1)]


def test_the_operators_page_names_every_family_and_the_build_info() -> None:
    from tests.support.paths import REPO  # noqa: PLC0415

    rows = [line for line in (REPO / "docs" / "operating.md").read_text().splitlines()
            if line.startswith("| `autoconfig_requests_total` |")]
    assert len(rows) == 1
    assert set(re.findall(r"`([a-z0-9_]+)`", rows[0].split("|")[2])) >= {*FAMILIES, OTHER_FAMILY}
    assert "| `autoconfig_build_info` |" in (REPO / "docs" / "operating.md").read_text()
