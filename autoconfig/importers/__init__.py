"""Importers: domain files from what a provider already publishes.

``xml`` reads a Thunderbird ``config-v1.1.xml``, ``srv`` the RFC 6186 SRV records.
Both print YAML that ``autoconfig check`` accepts, with a comment at each thing
that could not be mapped, so the admin sees what was lost.
"""


class ImportFailedError(ValueError):
    """The input cannot become a domain file at all (the message says why)."""
