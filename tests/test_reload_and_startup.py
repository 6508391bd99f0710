"""Start-up refusal and reload without restart, against the real gunicorn server."""

from __future__ import annotations

from pathlib import Path

from tests.support.http import request
from tests.support.installed import run_installed
from tests.support.server import run_server
from tests.support.system import wait_for

QUERY = "/mail/config-v1.1.xml?emailaddress=alice@example.com"


def test_serve_refuses_to_start_without_a_valid_domain_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: Broken\ndomains: [broken.example]\n")
    result = run_installed("serve", "--bind", "127.0.0.1:1", "--domains", str(tmp_path))
    assert result.returncode == 1
    assert "no valid domain file; the server will not start" in result.stderr
    assert "broken.yaml:1: incoming: required key is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_edits_take_effect_without_restart_and_typos_keep_the_last_good_file(
    domains_copy: Path, tmp_path: Path
) -> None:
    example = domains_copy / "example.com.yaml"
    original = example.read_text()
    with run_server(domains_copy, tmp_path / "server.log") as server:
        assert b"<hostname>mail.example.com</hostname>" in request(server.base, QUERY).body

        example.write_text(original.replace("mail.example.com", "imap.example.com"))
        # Every worker reloads on its own: wait until all of them answer with the edit.
        assert wait_for(
            lambda: all(b"imap.example.com" in request(server.base, QUERY).body for _ in range(20))
        )

        example.write_text(original.replace("security: tls", "security: 'ssl '", 1))
        assert wait_for(lambda: "keeping the last good version" in server.log())
        for _ in range(20):  # every worker keeps answering with the last good file
            reply = request(server.base, QUERY)
            assert reply.status == 200 and b"imap.example.com" in reply.body
        assert "incoming[0].security: expected one of tls, starttls, none; got 'ssl '" in (
            server.log()
        )

        (domains_copy / "new.example.yaml").write_text(
            "name: New\ndomains: [new.example]\n"
            "incoming: [{protocol: imap, host: imap.new.example, security: tls}]\n"
            "outgoing: [{host: smtp.new.example, security: tls}]\n"
        )
        new_query = "/mail/config-v1.1.xml?emailaddress=a@new.example"
        assert wait_for(lambda: request(server.base, new_query).status == 200)

        (domains_copy / "new.example.yaml").unlink()
        assert wait_for(lambda: request(server.base, new_query).status == 404)
        assert server.process.poll() is None
