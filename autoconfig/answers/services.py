"""Everything an answer uses besides the request, built once per process and typed.

Answer functions get this object instead of reaching into a framework's globals, so a
unit test builds one from a directory of domain files and calls the function directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from autoconfig.answers.documents import Documents
from autoconfig.answers.metrics import Metrics
from autoconfig.directory import Directory
from autoconfig.dns.mx import MxResolver
from autoconfig.domains.snapshot import Snapshot
from autoconfig.i18n import Translators
from autoconfig.settings import Settings
from autoconfig.signing import Signer


class SnapshotSource(Protocol):
    """Where the configuration being served is read (``ConfigStore``)."""

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot to answer with; never waits for a reload."""

    @property
    def generation(self) -> int:
        """Loads so far in this process (1 = the start-up load)."""


@dataclass(frozen=True, slots=True)
class Services:
    """The loaded configuration and the helpers answers call."""

    settings: Settings
    store: SnapshotSource
    metrics: Metrics
    translators: Translators
    documents: Documents
    mx: MxResolver | None = None  # hosted domains found by MX; inert without `mx` patterns
    directory: Directory | None = None  # per-user login names (LDAP), when configured
    signer: Signer | None = None  # profiles go out unsigned without one
