"""autoconfig: mail-client autoconfiguration from one YAML file per domain.

Importing this package reads no file, logs nothing and loads no web framework;
gunicorn runs ``autoconfig:create_app()`` (``autoconfig/server/app.py``), which loads
the domain files once. The sub-packages are layers that only import downwards
(``docs/architecture.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autoconfig.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """``autoconfig.create_app``, imported when first asked for (PEP 562): the CLI's
    ``check`` and ``render`` never pay for the server's imports."""
    if name == "create_app":
        from autoconfig.server.app import create_app  # noqa: PLC0415

        return create_app
    raise AttributeError(f"module 'autoconfig' has no attribute {name!r}")
