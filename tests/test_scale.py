"""Hosting-provider scale, against the real server: one watcher, shared memory, the cache.

Behaviours, not timings (those are bench/scale.py's job): gunicorn's master watches the
files and replaces its workers, which fork with the new configuration already loaded;
a Kubernetes ConfigMap swap is seen; a replaced worker serves what the master holds; a
worker holds no private copy of the domains; a restart reuses the compiled cache and
reads again only the files that changed; one file may list 100 000 domains.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
import segno

from autoconfig.answers.documents import (
    RENDERED_DOCUMENTS_KEPT,
    RenderedDocuments,
    SnapshotDocuments,
)
from autoconfig.domains.cache import CompiledCache
from autoconfig.domains.cache_writer import cache_entries
from autoconfig.domains.load import load_file, scan_domain_files
from autoconfig.domains.parallel import FILES_PER_PROCESS_AT_LEAST, load_files
from autoconfig.domains.snapshot import build_snapshot, first_snapshot
from autoconfig.render.pacc import render_pacc
from autoconfig.server.application import lower_priority
from tests.support.domain_files import CUSTOMER, write_customers
from tests.support.http import request
from tests.support.paths import TEST_DATA
from tests.support.server import RunningServer, run_server
from tests.support.system import require_program
from tests.support.system import wait_for as poll

wait_for = partial(poll, timeout=15.0)  # the edits here reach 100 000 files

AUTOCONFIG = Path(sys.executable).with_name("autoconfig")

QUERY = "/mail/config-v1.1.xml?emailaddress=alice@example.com"
EXAMPLE = """name: Example Mail
domains: [example.com]
incoming: [{protocol: imap, host: imap.example.com, security: tls}]
outgoing: [{host: smtp.example.com, security: tls}]
"""


def workers_of(server: RunningServer) -> list[int]:
    """The pids of gunicorn's workers: the children of the master."""
    pid = server.process.pid
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def memory_kib(pid: int, field: str) -> int:
    """One line of /proc/PID/smaps_rollup, in KiB (Pss, Private_Dirty, ...)."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"{field} missing from /proc/{pid}/smaps_rollup")


def customer_query(i: int) -> str:
    return f"/mail/config-v1.1.xml?emailaddress=someone@customer{i}.example"


def test_a_kubernetes_configmap_swap_is_served(tmp_path: Path) -> None:
    # A mounted ConfigMap: each key is a symlink through ..data, which the kubelet swaps
    # atomically (rename of a new ..data symlink) to publish an update.
    mount = tmp_path / "configmap"
    first = mount / "..2026_11_30_09_00_00.1"
    first.mkdir(parents=True)
    (first / "example.com.yaml").write_text(EXAMPLE)
    (mount / "..data").symlink_to(first.name)
    (mount / "example.com.yaml").symlink_to("..data/example.com.yaml")
    with run_server(mount, tmp_path / "server.log") as server:
        assert b"<hostname>imap.example.com</hostname>" in request(server.base, QUERY).body

        second = mount / "..2026_11_30_09_05_00.2"
        second.mkdir()
        (second / "example.com.yaml").write_text(EXAMPLE.replace("imap.example", "mx1.example"))
        (mount / "..data_tmp").symlink_to(second.name)
        os.rename(mount / "..data_tmp", mount / "..data")

        def every_answer_is_new() -> bool:
            return all(b"mx1.example.com" in request(server.base, QUERY).body for _ in range(10))

        assert wait_for(every_answer_is_new)


def test_the_master_reloads_and_new_workers_start_with_the_new_files(
    domains_copy: Path, tmp_path: Path
) -> None:
    example = domains_copy / "example.com.yaml"
    with run_server(domains_copy, tmp_path / "server.log") as server:
        assert wait_for(lambda: len(workers_of(server)) == 2)
        before = set(workers_of(server))
        example.write_text(example.read_text().replace("mail.example.com", "imap.example.com"))
        assert wait_for(lambda: b"imap.example.com" in request(server.base, QUERY).body)
        # The edit reached the clients through new workers forked by the master, which
        # replaced both old ones: no worker re-reads files on its own.
        assert wait_for(lambda: not before & set(workers_of(server)))
        assert len(workers_of(server)) == 2
        assert "Handling signal: hup" in server.log()
        for _ in range(20):
            assert b"imap.example.com" in request(server.base, QUERY).body


def test_a_directory_left_without_valid_files_is_refused_and_the_last_good_one_serves(
    domains_copy: Path, tmp_path: Path
) -> None:
    with run_server(domains_copy, tmp_path / "server.log") as server:
        for file in domains_copy.glob("*.yaml"):  # every file gone, one broken new one
            file.unlink()
        (domains_copy / "new.example.yaml").write_text("name: [broken\n")
        assert wait_for(lambda: "reload refused, the last good configuration keeps serving"
                        in server.log())
        for _ in range(20):
            reply = request(server.base, QUERY)
            assert reply.status == 200
            assert b"<hostname>mail.example.com</hostname>" in reply.body


def test_a_killed_worker_is_replaced_by_one_serving_the_current_files(
    domains_copy: Path, tmp_path: Path
) -> None:
    example = domains_copy / "example.com.yaml"
    with run_server(domains_copy, tmp_path / "server.log") as server:
        example.write_text(example.read_text().replace("mail.example.com", "imap.example.com"))
        assert wait_for(lambda: all(
            b"imap.example.com" in request(server.base, QUERY).body for _ in range(10)
        ))
        assert wait_for(lambda: len(workers_of(server)) == 2)
        victim = workers_of(server)[0]
        os.kill(victim, signal.SIGKILL)
        replies = [request(server.base, QUERY) for _ in range(200)]
        assert [r.status for r in replies] == [200] * 200
        assert all(b"imap.example.com" in r.body for r in replies)
        assert wait_for(lambda: victim not in workers_of(server) and len(workers_of(server)) == 2)
        replies = [request(server.base, QUERY) for _ in range(50)]
        assert all(r.status == 200 and b"imap.example.com" in r.body for r in replies)


def nice_of(pid: int) -> int:
    """A thread's nice value (field 19 of /proc/PID/stat, after the command in parens)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[16])


def test_lower_priority_reaches_every_thread_of_a_process_and_skips_gone_ones() -> None:
    """Linux keeps a nice value per thread: a gthread worker's request threads must
    yield too, not only its main thread."""
    script = (
        "import threading, time\n"
        "for _ in range(3): threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "print('ready', flush=True); time.sleep(60)\n"
    )
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                          text=True) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
            with subprocess.Popen([sys.executable, "-c", "pass"]) as gone:
                gone.wait()
            lower_priority([gone.pid, child.pid], 3)
            threads = [int(t) for t in os.listdir(f"/proc/{child.pid}/task")]
            assert len(threads) == 4
            own = os.getpriority(os.PRIO_PROCESS, 0)
            assert [nice_of(t) for t in threads] == [min(own + 3, 19)] * 4
        finally:
            child.kill()


def replaced(server: RunningServer, before: set[int]) -> bool:
    """Whether both workers are new since ``before``."""
    now = set(workers_of(server))
    return len(now) == 2 and not before & now


def test_replaced_workers_run_at_the_masters_priority_after_a_reload(
    domains_copy: Path, tmp_path: Path
) -> None:
    """The old workers yield the CPU while the master reloads; the new ones, forked from
    the master, get its priority back, after an accepted and after a refused reload."""
    example = domains_copy / "example.com.yaml"
    with run_server(domains_copy, tmp_path / "server.log") as server:
        assert wait_for(lambda: len(workers_of(server)) == 2)
        master = nice_of(server.process.pid)
        first = set(workers_of(server))
        example.write_text(example.read_text().replace("mail.example.com", "imap.example.com"))
        assert wait_for(lambda: b"imap.example.com" in request(server.base, QUERY).body)
        assert wait_for(lambda: replaced(server, first))
        assert [nice_of(pid) for pid in workers_of(server)] == [master, master]
        second = set(workers_of(server))
        for file in domains_copy.glob("*.yaml"):  # nothing valid left: refused
            file.unlink()
        assert wait_for(lambda: "reload refused" in server.log())
        assert wait_for(lambda: replaced(server, second))
        assert [nice_of(pid) for pid in workers_of(server)] == [master, master]
        assert b"imap.example.com" in request(server.base, QUERY).body


def test_workers_share_the_domains_with_the_master_instead_of_copying_them(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "domains"
    write_customers(directory, 10_000)
    env = {"AUTOCONFIG_CACHE_DIR": str(tmp_path / "cache")}
    with run_server(directory, tmp_path / "server.log", env=env, startup_timeout=180) as server:
        for i in range(0, 10_000, 50):  # touch records all over the registry
            assert request(server.base, customer_query(i)).status == 200
        (directory / "customer7.example.yaml").write_text(
            CUSTOMER.format(i=7).replace("Customer 7", "Customer Seven")
        )
        assert wait_for(lambda: b"Customer Seven" in request(server.base, customer_query(7)).body)
        for i in range(0, 10_000, 50):
            assert request(server.base, customer_query(i)).status == 200
        # the reload replaced the workers: the old ones may still be exiting (their memory
        # already gone) until the master has reaped them
        assert wait_for(lambda: len(workers_of(server)) == 2, timeout=30)
        workers = workers_of(server)
        private = [memory_kib(pid, "Private_Dirty") for pid in workers]
        shared = [memory_kib(pid, "Shared_Dirty") for pid in workers]
        # Measured at 10 000 files: a worker has ~11 MiB of its own (interpreter, Flask,
        # lxml, the requests it served) and shares ~66 MiB with the master, the domains
        # among them. A private copy of the domains would add ~50 MiB to the former.
        assert all(kib < 25_000 for kib in private), (private, shared)
        assert all(kib > 40_000 for kib in shared), (private, shared)


def test_a_restart_reuses_the_compiled_cache_and_reads_only_changed_files(
    domains_copy: Path, tmp_path: Path
) -> None:
    env = {"AUTOCONFIG_CACHE_DIR": str(tmp_path / "cache")}
    with run_server(domains_copy, tmp_path / "first.log", env=env) as server:
        assert "compiled cache" not in server.log()
        assert wait_for(lambda: list((tmp_path / "cache").glob("domains-*.cache")))
    files = len(list(domains_copy.glob("*.yaml")))
    example = domains_copy / "example.com.yaml"
    example.write_text(example.read_text().replace("mail.example.com", "imap.example.com"))
    with run_server(domains_copy, tmp_path / "second.log", env=env) as server:
        assert b"imap.example.com" in request(server.base, QUERY).body
        assert (
            f"1 of {files} domain files read, {files - 1} taken from the compiled cache"
            in server.log()
        )


def test_a_restart_from_the_cache_serves_the_same_pacc_documents_and_a_new_logo(
    tmp_path: Path,
) -> None:
    # The cache holds the PACC documents too; a logo edited while the server was down
    # is served new although its domain file (the cache's stamp) did not change.
    directory = tmp_path / "domains"
    directory.mkdir()
    (directory / "example.com.yaml").write_text(EXAMPLE)
    (directory / "brand.example.yaml").write_text(
        EXAMPLE.replace("example.com", "brand.example").replace("Example Mail", "Brand")
        + "logo: logo.png\n"
    )
    segno.make("first logo").save(str(directory / "logo.png"), kind="png", scale=2)
    env = {"AUTOCONFIG_CACHE_DIR": str(tmp_path / "cache")}
    pacc = "/.well-known/user-agent-configuration.json"
    with run_server(directory, tmp_path / "first.log", env=env) as server:
        first = request(server.base, pacc, headers={"Host": "ua-auto-config.example.com"})
        assert request(server.base, "/brand/brand.example/logo").body == (
            directory / "logo.png"
        ).read_bytes()
        assert wait_for(lambda: list((tmp_path / "cache").glob("domains-*.cache")))
    segno.make("second logo, longer").save(str(directory / "logo.png"), kind="png", scale=3)
    with run_server(directory, tmp_path / "second.log", env=env) as server:
        assert "1 of 2 domain files read, 1 taken from the compiled cache" in server.log()
        again = request(server.base, pacc, headers={"Host": "ua-auto-config.example.com"})
        logo = request(server.base, "/brand/brand.example/logo")
    loaded = load_file(directory / "example.com.yaml").loaded
    assert loaded is not None
    assert first.status == again.status == 200
    assert again.body == first.body == render_pacc(loaded.config, "example.com")
    assert again.header("ETag") == first.header("ETag")
    assert logo.status == 200
    assert logo.body == (directory / "logo.png").read_bytes()


def test_a_cache_that_cannot_be_written_costs_one_log_line(
    domains_copy: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    env = {"AUTOCONFIG_CACHE_DIR": str(blocker / "cache")}
    with run_server(domains_copy, tmp_path / "server.log", env=env) as server:
        assert request(server.base, QUERY).status == 200
        assert wait_for(lambda: "cannot write the compiled cache" in server.log())
        lines = [x for x in server.log().splitlines() if "cannot write the compiled" in x]
        assert len(lines) == 1
        assert f"cannot write the compiled cache {blocker}/cache/domains-" in lines[0]
        assert lines[0].endswith("(Not a directory): the next start reads every file")


def test_one_file_listing_100000_domains_is_served(tmp_path: Path) -> None:
    directory = tmp_path / "domains"
    directory.mkdir()
    listed = "".join(f"  - customer{i}.example\n" for i in range(100_000))
    (directory / "shared-hosting.yaml").write_text(
        "name: Shared Hosting\ndomains:\n" + listed
        + "incoming: [{protocol: imap, host: mail.%EMAILDOMAIN%, security: tls}]\n"
        + "outgoing: [{host: mail.%EMAILDOMAIN%, security: tls}]\n"
    )
    assert (directory / "shared-hosting.yaml").stat().st_size > 2_500_000
    with run_server(directory, tmp_path / "server.log", startup_timeout=120) as server:
        health = request(server.base, "/healthz")
        assert b'"domains":100000' in health.body
        reply = request(server.base, customer_query(54_321))
        assert reply.status == 200
        assert b"<displayName>Shared Hosting</displayName>" in reply.body
        # The first 50 domains stand for all: Thunderbird never compares the list with
        # the domain it asked for, and 100 000 of them would make a 4 MB answer.
        assert reply.body.count(b"<domain>") == 50
        assert len(reply.body) < 4000
        pox = request(
            server.base, "/autodiscover/autodiscover.xml",
            headers={"Host": "autodiscover.customer99999.example"},
        )
        assert pox.status == 200
        assert b"<Server>mail.customer99999.example</Server>" in pox.body


def test_check_answers_the_same_from_the_compiled_cache(tmp_path: Path) -> None:
    directory = tmp_path / "domains"
    shutil.copytree(TEST_DATA / "broken-domains", directory)
    (directory / "plain.example.yaml").write_text(
        EXAMPLE.replace("example.com", "plain.example").replace("security: tls", "security: none")
    )
    env = {**os.environ, "AUTOCONFIG_CACHE_DIR": str(tmp_path / "cache")}
    command = [str(AUTOCONFIG), "check", str(directory)]
    first = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert list((tmp_path / "cache").glob("domains-*.cache"))
    second = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert first.returncode == second.returncode == 1
    assert first.stdout == second.stdout
    assert "typo.example.yaml:13: incoming[1].secruity: unknown key" in second.stdout
    assert "plain.example.yaml:4: warning: " in second.stdout


def test_a_file_beyond_the_size_bound_is_refused_with_the_reason(tmp_path: Path) -> None:
    huge = tmp_path / "huge.example.yaml"
    with huge.open("wb") as file:
        file.truncate(17 << 20)  # sparse: the bound is checked before anything is read
    result = load_file(huge, "huge.example.yaml")
    assert [str(error) for error in result.errors] == [
        "huge.example.yaml: 17825792 bytes, larger than the 16777216 bytes a domain file may"
        " have (about 671088 domains); split it into several files"
    ]


def test_caches_of_directories_that_are_gone_are_deleted(tmp_path: Path) -> None:
    gone, kept = tmp_path / "gone", tmp_path / "kept"
    for directory in (gone, kept):
        write_customers(directory, 2)
    folder = tmp_path / "cache"
    CompiledCache(folder, gone).write({})
    stale = CompiledCache(folder, gone).path
    assert stale.exists()
    shutil.rmtree(gone)
    CompiledCache(folder, kept).write({})
    assert sorted(p.name for p in folder.iterdir()) == [CompiledCache(folder, kept).path.name]


def test_an_edit_in_place_gives_what_a_fresh_load_gives(tmp_path: Path) -> None:
    directory = tmp_path / "domains"
    write_customers(directory, 5)
    first = build_snapshot(directory)
    edited = directory / "customer3.example.yaml"
    edited.write_text(CUSTOMER.format(i=3).replace("Customer 3", "Customer Three"))
    in_place = build_snapshot(directory, first)
    fresh = build_snapshot(directory)
    assert dict(in_place.registry.by_domain) == dict(fresh.registry.by_domain)
    in_place_documents, fresh_documents = SnapshotDocuments(in_place), SnapshotDocuments(fresh)
    assert [in_place_documents.thunderbird(c) for c in in_place.registry.configs] == [
        fresh_documents.thunderbird(c) for c in fresh.registry.configs
    ]
    assert in_place.registry.lookup("alias3.example").name == "Customer Three"  # type: ignore[union-attr]
    # A changed domain list (and size: the stamp must change) is built afresh, also right.
    edited.write_text(CUSTOMER.format(i=3).replace("alias3.example", "another3.example"))
    moved = build_snapshot(directory, in_place)
    assert moved.registry.lookup("alias3.example") is None
    assert moved.registry.lookup("another3.example").name == "Customer 3"  # type: ignore[union-attr]


def test_many_files_are_read_on_every_core_with_the_same_results(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.fail("this test needs two cores; CI machines have them")
    directory = tmp_path / "domains"
    count = 2 * FILES_PER_PROCESS_AT_LEAST
    write_customers(directory, count)
    # Broken files in every share, and a clash between shares, read the same way.
    (directory / "customer1.example.yaml").write_text("name: [\n")
    (directory / "customer3999.example.yaml").write_text(CUSTOMER.format(i=3999) + "typo: 1\n")
    typo_line = len(CUSTOMER.format(i=3999).splitlines()) + 1
    (directory / "zz-clash.yaml").write_text(CUSTOMER.format(i=5))
    wanted = list(scan_domain_files(directory).items())
    with caplog.at_level(logging.INFO, logger="autoconfig"):
        parallel = load_files(directory, "domains/", wanted)
    assert f"reading {count + 1} domain files in 2 processes" in caplog.messages
    serial = [load_file(directory / name, "domains/" + name, stamp) for name, stamp in wanted]
    assert parallel == serial
    assert [str(e) for r in parallel for e in r.errors] == [
        "domains/customer1.example.yaml:2: a value is missing here, or a [ list or { mapping"
        " is not closed",
        f"domains/customer3999.example.yaml:{typo_line}: typo: unknown key; allowed: name,"
        " short_name,"
        " domains, incoming, outgoing, webmail, help_url, caldav, carddav, ews, owa,"
        " activesync, jmap, mx, directory, oauth2, logo, accent_color",
    ]
    registry = build_snapshot(directory).registry
    assert len(registry.files) == count - 2
    shown = str(directory) + "/"
    assert [str(e) for e in registry.errors][-2:] == [
        f"{shown}zz-clash.yaml:2: domains[{i}]: '{domain}' is already served by"
        f" {shown}customer5.example.yaml; this file is not loaded"
        for i, domain in enumerate(["customer5.example", "alias5.example"])
    ]


def test_a_cache_written_from_another_working_directory_is_used_with_its_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "srv" / "domains"
    write_customers(directory, 3)
    folder = tmp_path / "cache"
    monkeypatch.chdir(tmp_path / "srv")  # as the service runs: files named domains/...
    CompiledCache(folder, directory).write(cache_entries(build_snapshot(directory)))
    monkeypatch.chdir(tmp_path)  # an admin's `autoconfig check srv/domains`
    cached = CompiledCache(folder, directory).read()
    assert sorted(cached) == [f"srv/domains/customer{i}.example.yaml" for i in range(3)]
    assert {loaded.config.source for loaded in cached.values()} == set(cached)
    snapshot = first_snapshot(directory, cached)
    assert all(cached[f.path] is f for f in snapshot.registry.files)  # none read again
    assert snapshot.registry.lookup("alias2.example").source == (  # type: ignore[union-attr]
        "srv/domains/customer2.example.yaml"
    )


def replace_in(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def test_reloads_under_load_fail_no_request(domains_copy: Path, tmp_path: Path) -> None:
    """wrk keeps 32 keep-alive connections busy while files are edited, broken, added and
    removed: every reload replaces both workers, and no request fails."""
    wrk = require_program("wrk", "wrk")
    example = domains_copy / "example.com.yaml"
    with run_server(domains_copy, tmp_path / "server.log") as server:
        with subprocess.Popen(
            [str(wrk), "-t1", "-c32", "-d8s", server.base + QUERY],
            stdout=subprocess.PIPE, text=True,
        ) as load:
            steps = [
                lambda: replace_in(example, "mail.example", "mx1.example"),
                lambda: (domains_copy / "broken.yaml").write_text("name: [broken\n"),
                lambda: (domains_copy / "added.example.yaml").write_text(
                    EXAMPLE.replace("example.com", "added.example")),
                (domains_copy / "broken.yaml").unlink,
                (domains_copy / "hosting.example.net.yaml").unlink,
                lambda: replace_in(example, "mx1.example", "mx2.example"),
            ]
            for step in steps:
                time.sleep(1)
                step()
            output, _ = load.communicate(timeout=60)
        hups = server.log().count("Handling signal: hup")
        assert b"mx2.example.com" in request(server.base, QUERY).body
        assert request(server.base, customer_query(0).replace("customer0", "added")).status == 200
    assert load.returncode == 0
    assert "Socket errors" not in output and "Non-2xx" not in output, output
    assert int(re.search(r"(\d+) requests in", output).group(1)) > 1000  # type: ignore[union-attr]
    assert hups >= 5


def test_documents_are_rendered_when_first_asked_and_kept_within_a_bound() -> None:
    documents = RenderedDocuments()
    rendered: list[str] = []

    def render(key: str) -> bytes:
        rendered.append(key)
        return f"<document of {key}/>".encode()

    first = documents.get("a.example", lambda: render("a.example"))
    assert documents.get("a.example", lambda: render("a.example")) is first
    assert rendered == ["a.example"]
    assert first.etag == hashlib.sha256(b"<document of a.example/>").hexdigest()[:32]
    for i in range(RENDERED_DOCUMENTS_KEPT):  # a hoster's many domains, each asked once
        documents.get(f"d{i}.example", lambda i=i: render(f"d{i}.example"))
    again = documents.get("a.example", lambda: render("a.example"))
    assert rendered.count("a.example") == 2  # not kept for ever: rendered again, the same
    assert again == first


def test_configmap_swaps_under_load_fail_no_request(tmp_path: Path) -> None:
    """A Kubernetes ConfigMap update (the kubelet's atomic ..data swap) three times while wrk
    keeps 32 keep-alive connections busy: no request fails, the last version serves."""
    wrk = require_program("wrk", "wrk")
    mount = tmp_path / "configmap"
    mount.mkdir()

    def publish(version: int, host: str) -> None:
        folder = mount / f"..2026_11_30_09_0{version}_00.{version}"
        folder.mkdir()
        (folder / "example.com.yaml").write_text(EXAMPLE.replace("imap.example", host))
        (mount / "..data_tmp").symlink_to(folder.name)
        os.rename(mount / "..data_tmp", mount / "..data")

    publish(0, "imap.example")
    (mount / "example.com.yaml").symlink_to("..data/example.com.yaml")
    with run_server(mount, tmp_path / "server.log") as server:
        with subprocess.Popen(
            [str(wrk), "-t1", "-c32", "-d6s", server.base + QUERY],
            stdout=subprocess.PIPE, text=True,
        ) as load:
            for version in (1, 2, 3):
                time.sleep(1.2)
                publish(version, f"mx{version}.example")
            output, _ = load.communicate(timeout=60)
        assert b"<hostname>mx3.example.com</hostname>" in request(server.base, QUERY).body
    assert load.returncode == 0
    assert "Socket errors" not in output and "Non-2xx" not in output, output
