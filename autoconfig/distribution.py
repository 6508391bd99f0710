"""The distribution name: what ``pip install`` and the package metadata call us.

``autoconfig`` on PyPI is an unrelated project, so the distribution is named
``mail-autoconfig``; the import package and the command stay ``autoconfig``. Hints
that tell people what to install, and version look-ups, take the name from here.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

NAME = "mail-autoconfig"
LDAP_EXTRA = f"{NAME}[ldap]"


def installed_version() -> str:
    """The installed version, or ``unknown`` when run from a checkout never installed."""
    try:
        return version(NAME)
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"
