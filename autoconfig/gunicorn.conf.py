"""gunicorn settings used by ``autoconfig serve`` (and by the systemd unit).

Values can be overridden on the command line or with AUTOCONFIG_* variables.
"""

import multiprocessing
import os

bind = os.environ.get("AUTOCONFIG_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("AUTOCONFIG_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
# Load the domain files once in the master: errors show once, workers share the memory.
preload_app = True
timeout = 30
graceful_timeout = 20
keepalive = 5
# Access log without the query string (it holds email addresses): %(U)s is the path only.
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
# gunicorn's control socket lives at one fixed path per user, so several instances
# (replicas, tests) would fight over it; reloads go through signals (HUP) instead.
control_socket_disable = True
