"""gunicorn settings used by ``autoconfig serve`` (and so by the systemd unit).

Command-line options override these; the AUTOCONFIG_* variables below tune a
deployment without editing the file. Worker class and count were chosen by
measurement (bench/run.py, README "Benchmarks"); see the comments below.
"""

import os

bind = os.environ.get("AUTOCONFIG_BIND", "127.0.0.1:8000")
# Measured with bench/run.py on 2 cores, directly and behind nginx, at 32 and 256
# connections (README "Benchmarks"): gthread 2x4 served more than sync x2 at 256
# connections, and on the shared test machine neither was steadier than the other
# (rounds swung by 20 % to 200 % for both, and for a bare Flask app too). gthread
# also wins on what the bench does not load: a thread waiting for an MX lookup (up to
# AUTOCONFIG_DNS_TIMEOUT s) does not stop its process, and nginx's upstream keepalive
# is honoured. So: one process per core, four threads each.
worker_class = os.environ.get("AUTOCONFIG_WORKER_CLASS", "gthread")
workers = int(os.environ.get("AUTOCONFIG_WORKERS") or os.cpu_count() or 2)
# (gunicorn turns sync into gthread when threads > 1, so sync gets exactly one.)
threads = int(os.environ.get("AUTOCONFIG_THREADS", "4")) if worker_class == "gthread" else 1
# Load the domain files once in the master: errors show once, workers share the memory.
# (`autoconfig serve` builds the app itself; the master also watches the files and
# replaces the workers after a reload: autoconfig/gunicorn_app.py.)
preload_app = True
# A request is a lookup and a prerendered document: 30 s means a stuck worker.
timeout = 30
# On SIGTERM (systemctl stop) and on HUP (systemctl reload) old workers finish the
# requests they hold; nginx sends new ones to another replica meanwhile.
graceful_timeout = 20
# Idle keep-alive connections from nginx's upstream pool (nginx/autoconfig.conf keepalive).
keepalive = 20
# Access log: no query strings, no bodies, no address in the Autodiscover v2 path
# (autoconfig/gunicorn_logging.py). %(h)s is the client: for requests from the proxy named
# in AUTOCONFIG_TRUSTED_PROXIES, the X-Forwarded-For entry it added (autoconfig/proxy.py).
logger_class = "autoconfig.gunicorn_logging.AddressFreeLogger"
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
# X-Forwarded-Proto is believed only from these peers (nginx on the same host).
forwarded_allow_ips = os.environ.get("AUTOCONFIG_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# gunicorn's control socket lives at one fixed path per user, so several instances
# (replicas, tests) would fight over it; reloads go through signals (HUP) instead.
control_socket_disable = True
