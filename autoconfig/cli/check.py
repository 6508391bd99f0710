"""``autoconfig check [DIR]``: validate domain files before deploying or reloading."""

from __future__ import annotations

import os
from pathlib import Path

import click

from autoconfig.cli.common import BadSettings, default_domains_dir, domains_option
from autoconfig.cli.directory import directory_findings, online_findings
from autoconfig.domains.cache import CompiledCache
from autoconfig.domains.cache_writer import cache_entries, snapshot_differs
from autoconfig.domains.load import display_path
from autoconfig.domains.registry import NoValidDomainsError, Registry, load_directory
from autoconfig.domains.snapshot import first_snapshot
from autoconfig.render.lint import lint
from autoconfig.settings import Settings, SettingsError


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@domains_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1).")
@click.option(
    "--online", is_flag=True,
    help="Also bind to the directory (AUTOCONFIG_LDAP_*) and read every directory base.",
)
def check(directory: Path | None, domains_dir: Path | None, strict: bool, online: bool) -> None:
    """Validate every domain file in DIRECTORY; print every error and warning.

    Errors name the file, line and key, what was expected and what was found. Warnings
    predict what real clients will do with a valid file: for example, `security: none`
    makes Thunderbird for Android reject the whole document, and `oauth2` without a
    password method after it makes Thunderbird skip the server unless the host is one
    of its built-in OAuth providers.
    """
    directory = directory or domains_dir or default_domains_dir()
    try:
        registry, cache_writer = _load(directory)
    except NoValidDomainsError as error:
        raise click.ClickException(str(error)) from None
    try:
        warnings = [finding for loaded in registry.files for finding in lint(loaded)]
    finally:
        if cache_writer is not None:  # written meanwhile, on the other core
            os.waitpid(cache_writer, 0)
    about_directory = directory_findings(registry)
    if online:
        try:
            about_directory += online_findings(registry)
        except SettingsError as error:
            raise BadSettings(error) from None
    errors = [*registry.errors, *(f for f in about_directory if f.severity == "error")]
    warnings += [f for f in about_directory if f.severity != "error"]
    # file by file, top to bottom, as an admin fixes them (a file's errors come from
    # several steps: YAML, the format, other files)
    for finding in sorted([*errors, *warnings], key=lambda f: (f.file, f.line or 0)):
        click.echo(str(finding))
    files = len({f.path for f in registry.files} | {e.file for e in registry.errors})
    click.echo(
        f"{display_path(directory)}: {files} files, {len(registry.by_domain)} domains served,"
        f" {len(errors)} errors, {len(warnings)} warnings"
    )
    if errors or not registry.by_domain or (strict and warnings):
        raise SystemExit(1)


def _load(directory: Path) -> tuple[Registry, int | None]:
    """Load through the compiled cache the server uses: unchanged files were validated
    by this very version already, so only changed ones are read (100 000 files: seconds,
    not a minute). The messages are the same as without it. Also the pid of the child
    writing the cache anew, if this load compiled files it did not hold."""
    try:
        cache_dir = Settings.from_env().cache_dir
    except SettingsError:
        cache_dir = None  # `check` is about domain files; `serve` reports the setting
    if not directory.is_dir():
        return load_directory(directory), None  # its message
    cache = CompiledCache(cache_dir, directory) if cache_dir else None
    cached = cache.read() if cache else {}
    snapshot = first_snapshot(directory, cached)
    if cache is None or not snapshot_differs(snapshot, cached):
        return snapshot.registry, None
    return snapshot.registry, cache.write_in_child(cache_entries(snapshot))
