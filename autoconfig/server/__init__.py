"""gunicorn plumbing: the in-process application, the balanced worker, the access log,
the trusted-proxy fix and the shipped settings file."""
