"""Prometheus metrics, added up across gunicorn's workers.

gunicorn answers from several processes, so each keeps its values in files under
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, which
``autoconfig serve`` sets up: a fresh directory per start) and ``/metrics`` sums them.
prometheus_client picks that mode when it is first imported, so it is imported here
only when an app is built, after ``serve`` has set the variable; an app built without
it (the tests' in-process apps) counts in its own registry.

Labels come from fixed sets only (endpoint family, status class, outcome; the build's
versions): never an address, a domain or a path, so the number of series is bounded
whatever clients send.
"""

from __future__ import annotations

import os
import platform
from typing import TYPE_CHECKING, Any

from autoconfig.directory.failures import Kind
from autoconfig.directory.lookup import LOOKUP_RESULTS
from autoconfig.distribution import installed_version
from autoconfig.domains.registry import Registry

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# The families requests are counted under: each route names one (answers/routes.py).
FAMILIES = (
    "thunderbird", "autodiscover_pox", "autodiscover_v2", "apple_profile", "pacc",
    "wellknown", "brand", "page", "health", "metrics",
)
OTHER_FAMILY = "other"  # no route matched (404): scanners, typos
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")
RELOAD_RESULTS = ("succeeded", "refused")
MX_RESULTS = ("hit", "miss", "failure")
# Request durations: a prerendered document takes about a millisecond, an MX lookup
# up to AUTOCONFIG_DNS_TIMEOUT (2 s by default).
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Directory lookups: a few milliseconds on a LAN, at most AUTOCONFIG_LDAP_TIMEOUT (2 s).
DIRECTORY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
CACHE_RESULTS = ("hit", "miss")


def status_class(status: int) -> str:
    """``404`` -> ``"4xx"``; anything outside 200..599 counts as 5xx (our bug)."""
    return f"{status // 100}xx" if 200 <= status < 600 else "5xx"


def multiprocess() -> bool:
    """Whether values go to files that every worker shares (under ``autoconfig serve``)."""
    return MULTIPROCESS_VARIABLE in os.environ


class Metrics:
    """The app's counters, histograms and gauges (one set per app)."""

    def __init__(self) -> None:
        from prometheus_client import (  # noqa: PLC0415 - see the module docstring
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            values,
        )

        if multiprocess() and values.ValueClass is values.MutexValue:
            raise RuntimeError(
                f"prometheus_client was imported before {MULTIPROCESS_VARIABLE} was set;"
                " the workers' metrics would not add up"
            )
        self.registry = CollectorRegistry()
        # (family, status class) -> its request counter and duration histogram.
        self._series: dict[tuple[str, str], tuple[Any, Any]] = {}
        registry = self.registry
        self.requests = Counter(
            "autoconfig_requests", "HTTP requests answered, by endpoint family and status class",
            ["family", "status"], registry=registry,
        )
        self.duration = Histogram(
            "autoconfig_request_duration_seconds", "Time to answer a request, by endpoint family",
            ["family"], buckets=DURATION_BUCKETS, registry=registry,
        )
        self.reloads = Counter(
            "autoconfig_reloads", "Reloads of the edited domain files (under autoconfig"
            " serve: by gunicorn's master, once)",
            ["result"], registry=registry,
        )
        self.files_with_errors = Gauge(
            "autoconfig_config_files_with_errors",
            "Domain files that did not validate in the newest load (their last good version,"
            " if any, keeps serving)", registry=registry, multiprocess_mode="livemostrecent",
        )
        self.domains = Gauge(
            "autoconfig_config_domains", "Domains served by the newest load",
            registry=registry, multiprocess_mode="livemostrecent",
        )
        self.load_seconds = Gauge(
            "autoconfig_config_load_seconds", "How long the newest load of the domain files took",
            registry=registry, multiprocess_mode="livemostrecent",
        )
        self.generation = Gauge(
            "autoconfig_config_generation",
            "Loads so far (1 = the start-up load; each accepted reload adds one)",
            registry=registry, multiprocess_mode="livemax",
        )
        self.mx_lookups = Counter(
            "autoconfig_mx_lookups", "MX lookups for hosted domains: cache hits, DNS answers"
            " (misses) and DNS failures", ["result"], registry=registry,
        )
        self.directory_lookups = Counter(
            "autoconfig_directory_lookups", "Per-user directory lookups, by result (found,"
            " not_found, ambiguous, misconfigured, backed_off, failed)",
            ["result"], registry=registry,
        )
        self.directory_cache = Counter(
            "autoconfig_directory_cache", "Directory lookups answered from the worker's cache"
            " (hit) or not (miss)", ["result"], registry=registry,
        )
        self.directory_errors = Counter(
            "autoconfig_directory_errors", "Directory failures, by kind (connection, tls,"
            " timeout, bind: the endpoint's; configuration: one domain file's search)",
            ["kind"], registry=registry,
        )
        self.directory_seconds = Histogram(
            "autoconfig_directory_lookup_seconds", "Time of the lookups that asked the"
            " directory (bounded by AUTOCONFIG_LDAP_TIMEOUT)",
            buckets=DIRECTORY_BUCKETS, registry=registry,
        )
        # Which release runs, for dashboards and alerts across a rollout. Every process
        # that builds an app writes 1; "max" shows it once, where the default mode would
        # show one series per process and "sum" would add them up to the process count.
        self.build_info = Gauge(
            "autoconfig_build_info", "The running release: always 1, labelled with the"
            " version of autoconfig and of Python", ["version", "python"],
            registry=registry, multiprocess_mode="max",
        )
        self.build_info.labels(installed_version(), platform.python_version()).set(1)
        for result in RELOAD_RESULTS:  # every series exists from the start, at 0
            self.reloads.labels(result)
        for result in MX_RESULTS:
            self.mx_lookups.labels(result)
        for result in LOOKUP_RESULTS:
            self.directory_lookups.labels(result)
        for result in CACHE_RESULTS:
            self.directory_cache.labels(result)
        for kind in Kind:
            self.directory_errors.labels(kind.value)

    def request_done(self, family: str, status: int, seconds: float) -> None:
        """Count one answered request of ``family`` (the labelled series are looked up
        once per family and status class: ``labels()`` validates and locks on every call)."""
        key = (family, status_class(status))
        series = self._series.get(key)
        if series is None:
            family, status_text = key
            series = self._series[key] = (
                self.requests.labels(family, status_text), self.duration.labels(family)
            )
        count, duration = series
        count.inc()
        duration.observe(seconds)

    def loaded(self, registry: Registry, seconds: float, generation: int) -> None:
        """A load of the domain files was accepted (start-up or reload)."""
        if generation > 1:
            self.reloads.labels("succeeded").inc()
        self.files_with_errors.set(len({finding.file for finding in registry.errors}))
        self.domains.set(len(registry.by_domain))
        self.load_seconds.set(seconds)
        self.generation.set(generation)

    def refused(self) -> None:
        """A reload was refused (no valid file left); the last good load keeps serving."""
        self.reloads.labels("refused").inc()

    def mx_lookup(self, result: str) -> None:
        """One MX lookup: ``hit``, ``miss`` or ``failure``."""
        self.mx_lookups.labels(result).inc()

    def directory_lookup(self, result: str, cached: bool, seconds: float | None) -> None:
        """One directory lookup (``directory.lookup.Observer``)."""
        self.directory_lookups.labels(result).inc()
        self.directory_cache.labels("hit" if cached else "miss").inc()
        if seconds is not None:
            self.directory_seconds.observe(seconds)

    def directory_error(self, kind: str) -> None:
        """One directory failure, by kind (``directory.failures.Kind``)."""
        self.directory_errors.labels(kind).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text format for a scrape, summed over the workers in multiprocess mode."""
        from prometheus_client import (  # noqa: PLC0415
            CONTENT_TYPE_LATEST,
            CollectorRegistry,
            generate_latest,
        )
        from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415

        registry: CollectorRegistry = self.registry
        if multiprocess():
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    """gunicorn's ``child_exit``: drop the live gauges of a worker that ended."""
    if multiprocess():
        from prometheus_client import multiprocess as shared  # noqa: PLC0415

        shared.mark_process_dead(pid)  # type: ignore[no-untyped-call]
