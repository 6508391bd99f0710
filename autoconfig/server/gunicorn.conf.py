"""gunicorn settings used by ``autoconfig serve`` (and so by the systemd unit).

What a deployment tunes (bind address, workers, worker class, threads, trusted
forwarders) comes from the ``AUTOCONFIG_*`` variables, declared and checked once in
``autoconfig/settings.py``; ``autoconfig serve`` hands them to gunicorn. This file holds
what does not change between deployments. Worker class and count were chosen by
measurement (bench/run.py, docs/benchmarks.md): one gthread process per core with four
threads, so a thread waiting for an MX lookup does not stop its process.
"""

from typing import Any

# Load the domain files once in the master: errors show once, workers share the memory.
# (`autoconfig serve` builds the app itself; the master also watches the files and
# replaces the workers after a reload: autoconfig/server/application.py.)
preload_app = True
# A request is a lookup and a prerendered document: 30 s means a stuck worker.
timeout = 30
# On SIGTERM (systemctl stop) and on HUP (systemctl reload) old workers finish the
# requests they hold; nginx sends new ones to another replica meanwhile.
graceful_timeout = 20
# Idle keep-alive connections from nginx's upstream pool (nginx/autoconfig.conf keepalive).
keepalive = 20
# Access log: no query strings, no bodies, no address in the Autodiscover v2 path
# (autoconfig/server/access_log.py). %(h)s is the client: for requests from the proxy named
# in AUTOCONFIG_TRUSTED_PROXIES, the X-Forwarded-For entry it added (autoconfig/server/proxy.py).
# Every line (gunicorn's warnings too) is masked and escaped; `autoconfig serve` picks the
# JSON variant for AUTOCONFIG_LOG_FORMAT=json.
logger_class = "autoconfig.server.access_log.AddressFreeLogger"
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
# gunicorn's control socket lives at one fixed path per user, so several instances
# (replicas, tests) would fight over it; reloads go through signals (HUP) instead.
control_socket_disable = True


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended: drop its live gauges from /metrics (prometheus_client's
    multiprocess mode); its counters stay counted."""
    from autoconfig.answers.metrics import worker_exited  # noqa: PLC0415 - only in the master

    worker_exited(worker.pid)
