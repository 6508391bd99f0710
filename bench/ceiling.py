"""The bare-Flask ceiling of bench/run.py: the same bytes, with no work at all.

gunicorn serves ``bench.ceiling:app`` with the worker settings of the real server; each
route answers the document bench/run.py saved from the real server (folder named by
``AUTOCONFIG_BENCH_DOCUMENTS``), so the difference is what autoconfig itself costs.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

_FOLDER = Path(os.environ.get("AUTOCONFIG_BENCH_DOCUMENTS", "."))


def _saved(name: str) -> bytes:
    path = _FOLDER / name
    return path.read_bytes() if path.exists() else b""


_THUNDERBIRD, _POX, _PROFILE = _saved("thunderbird"), _saved("pox"), _saved("profile")

app = Flask(__name__)


@app.get("/mail/config-v1.1.xml")
def thunderbird() -> Response:
    return Response(_THUNDERBIRD, content_type="text/xml; charset=utf-8")


@app.post("/autodiscover/autodiscover.xml")
def pox() -> Response:
    return Response(_POX, content_type="text/xml; charset=utf-8")


@app.get("/apple/profile.mobileconfig")
def profile() -> Response:
    return Response(_PROFILE, content_type="application/x-apple-aspen-config")
