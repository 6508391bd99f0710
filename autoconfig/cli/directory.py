"""The directory as the admin commands use it: ``check``'s findings about ``directory:``
blocks (offline, and ``--online`` against AUTOCONFIG_LDAP_*), ``serve``'s bind test at
start, and ``render``'s lookup."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from autoconfig.directory import Directory, directory_from_settings
from autoconfig.directory.syntax import ldap_available, search_problems
from autoconfig.domains.load import Finding, format_key_path
from autoconfig.domains.registry import Registry
from autoconfig.settings import Settings

log = logging.getLogger("autoconfig")

# serve's start and check --online read at most this many distinct bases (a hoster's
# files share a few), so a start never waits long for them.
MAX_BASES = 50


def directory_findings(registry: Registry) -> list[Finding]:
    """An error for each ``directory:`` base that is not a DN and each filter that is not
    a filter (placeholders filled in); a warning if ldap3 is missing to check them."""
    files = [loaded for loaded in registry.files if loaded.config.directory is not None]
    if not files:
        return []
    if not ldap_available():
        return [Finding(
            files[0].path, None, "directory",
            f"base and filter of {len(files)} file(s) not checked: LDAP support is not"
            " installed (pip install 'autoconfig[ldap]')", "warning",
        )]
    return [
        Finding(loaded.path, loaded.line_of(at), format_key_path(at), message)
        for loaded in files
        if loaded.config.directory is not None
        for at, message in search_problems(loaded.config.directory)
    ]


def _bases(registry: Registry) -> dict[str, list[str]]:
    """Each distinct directory base, with the files that search under it."""
    bases: dict[str, list[str]] = {}
    for loaded in registry.files:
        if loaded.config.directory is not None:
            bases.setdefault(loaded.config.directory.base, []).append(loaded.path)
    return bases


def online_findings(registry: Registry) -> list[Finding]:
    """Bind as AUTOCONFIG_LDAP_* say and read every base: an error for the directory if
    that fails, and for each file whose base cannot be read."""
    settings = Settings.from_env().ldap
    if settings is None:
        return [Finding("AUTOCONFIG_LDAP_URL", None, "", "--online needs a directory; unset")]
    bases = _bases(registry)
    directory = Directory(settings)
    try:
        failure, problems = directory.try_bind(list(bases)[:MAX_BASES])
    finally:
        directory.close()
    if failure is not None:
        return [Finding(settings.url, None, "", f"the directory fails ({failure})")]
    return [
        Finding(path, None, "directory.base", f"cannot be searched: {problem}")
        for base, problem in problems.items() for path in bases[base]
    ]


def bind_test_at_start(directory: Directory | None, registry: Registry) -> None:
    """``serve``: bind once and read the files' bases; a warning naming the directory for
    whatever fails, never fatal (the answers fall back to the templates)."""
    if directory is None:
        return
    bases = _bases(registry)
    failure, problems = directory.try_bind(list(bases)[:MAX_BASES])
    if failure is not None:
        log.warning(
            "directory %s: the bind test at start failed (%s); answering with the domain"
            " files' login names until it works", directory.url, failure,
        )
        return
    for base, problem in problems.items():
        log.warning("directory %s: base %s of %s cannot be searched (%s); those files'"
                    " users get their login templates", directory.url, base,
                    ", ".join(bases[base]), problem)


@contextmanager
def directory_for_commands(settings: Settings) -> Iterator[Directory | None]:
    """The directory AUTOCONFIG_LDAP_* name (None without one), closed afterwards."""
    directory = directory_from_settings(settings.ldap)
    try:
        yield directory
    finally:
        if directory is not None:
            directory.close()
