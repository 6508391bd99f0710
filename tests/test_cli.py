"""The admin CLI as admins run it: the installed ``autoconfig`` command."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from tests.support.cli import run_cli
from tests.support.http import request
from tests.support.paths import DOMAINS, TEST_DATA
from tests.support.server import RunningServer


def test_render_thunderbird_prints_the_exact_bytes_the_server_sends(
    bundled_server: RunningServer,
) -> None:
    result = run_cli("render", "thunderbird", "alice@example.com")
    assert result.returncode == 0, result.stderr
    served = request(bundled_server.base, "/mail/config-v1.1.xml?emailaddress=alice@example.com")
    assert result.stdout.encode() == served.body


def test_render_honours_the_domains_option_and_environment(tmp_path: object) -> None:
    by_option = run_cli("render", "thunderbird", "a@example.org", "--domains", str(DOMAINS))
    assert by_option.returncode == 0
    assert "<hostname>imap.example.org</hostname>" in by_option.stdout


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("alice@unknown.example", "no domain file serves unknown.example"),
        ("alice", "invalid email address 'alice': the address has no '@'"),
    ],
)
def test_render_errors_are_messages_with_exit_1(address: str, message: str) -> None:
    result = run_cli("render", "thunderbird", address)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_schema_accepts_every_shipped_file_and_rejects_typos() -> None:
    result = run_cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(DOMAINS.glob("*.y*ml")):
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
        assert errors == [], f"{path.name}: {errors}"
    typo = yaml.safe_load((TEST_DATA / "broken-domains" / "typo.example.yaml").read_text())
    problems = {tuple(e.absolute_path) for e in validator.iter_errors(typo)}
    assert ("incoming", 1, "security") in problems
    assert ("outgoing", 0, "port") in problems
    assert any(path[:2] == ("incoming", 1) for path in problems)  # the unknown 'secruity'


def test_the_shipped_schema_file_is_up_to_date() -> None:
    """domains/schema.json is what the example files point yaml-language-server at."""
    result = run_cli("schema")
    assert (DOMAINS / "schema.json").read_text() == result.stdout


def test_help_lists_every_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("check", "render", "schema", "serve"):
        assert command in result.stdout
