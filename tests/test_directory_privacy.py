"""What a lookup reveals to anyone who asks, and the domain file's choice (``reveal``),
against a real slapd and the installed server.

Three files search the same people: uni.example reveals login and name (the default),
login.example the login only, nothing.example nothing (the directory is not asked).
Their filter takes the local part, so jane.doe@login.example is jane.doe@uni.example's
entry.
"""

from __future__ import annotations

import json
import plistlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from autoconfig.pox import NS_MOBILESYNC_RESPONSE, NS_OUTLOOK_RESPONSE
from tests.support.directory import RunningDirectory
from tests.support.http import Reply, request
from tests.support.paths import TEST_DATA
from tests.support.pox_requests import autodiscover_request
from tests.support.server import RunningServer, run_server

pytestmark = [
    pytest.mark.filterwarnings("ignore:tagMap is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:typeMap is deprecated:DeprecationWarning"),
]

NS = {"r": NS_OUTLOOK_RESPONSE, "m": NS_MOBILESYNC_RESPONSE}


def write_domains(folder: Path) -> Path:
    original = (TEST_DATA / "directory/uni.example.yaml").read_text()
    (folder / "uni.example.yaml").write_text(original)
    for reveal in ("login", "nothing"):
        text = original.replace("domains: [uni.example]", f"domains: [{reveal}.example]")
        text = text.replace("filter: (mail=%EMAILADDRESS%)",
                            "filter: (mail=%EMAILLOCALPART%@uni.example)")
        text = text.replace("  name_attribute: displayName\n",
                            f"  name_attribute: displayName\n  reveal: {reveal}\n")
        assert f"displayName\n  reveal: {reveal}\n" in text
        (folder / f"{reveal}.example.yaml").write_text(text)
    return folder


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, directory: RunningDirectory
) -> Iterator[RunningServer]:
    folder = write_domains(tmp_path_factory.mktemp("domains"))
    log = tmp_path_factory.mktemp("server") / "server.log"
    with run_server(folder, log, env=directory.env(), workers=1) as running:
        assert json.loads(request(running.base, "/readyz").body)["domains"] == 3
        yield running


def pox(server: RunningServer, address: str, mobilesync: bool = False) -> Reply:
    reply = request(server.base, "/autodiscover/autodiscover.xml", method="POST",
                    body=autodiscover_request(address, mobilesync=mobilesync),
                    headers={"Content-Type": "text/xml"})
    assert reply.status == 200, reply.body
    return reply


def thunderbird(server: RunningServer, address: str) -> Reply:
    return request(server.base, f"/mail/config-v1.1.xml?emailaddress={address}")


def masked(reply: Reply, local: str) -> bytes:
    """The body with the address's local part blanked: what else tells users apart."""
    return reply.body.replace(local.encode(), b"LOCAL")


def display_names(reply: Reply) -> list[str]:
    return etree.fromstring(reply.body).xpath("//m:DisplayName/text()", namespaces=NS)


def test_by_default_a_known_address_shows_its_login_and_its_name(server: RunningServer) -> None:
    assert display_names(pox(server, "zoe@uni.example", mobilesync=True)) == ["Zoë Ölmann"]
    assert display_names(pox(server, "ghost@uni.example", mobilesync=True)) == []
    login = etree.fromstring(pox(server, "jane.doe@uni.example").body).xpath(
        "//r:LoginName/text()", namespaces=NS)
    assert login == ["jdoe", "jdoe"]


def test_reveal_login_never_shows_a_name_and_hides_logins_the_template_gives(
    server: RunningServer,
) -> None:
    # zoe's uid is her local part, which the template gives: not told apart from ghost
    for mobilesync in (False, True):
        zoe = pox(server, "zoe@login.example", mobilesync)
        ghost = pox(server, "ghost@login.example", mobilesync)
        assert masked(zoe, "zoe") == masked(ghost, "ghost")
    assert thunderbird(server, "zoe@login.example").body == (
        thunderbird(server, "ghost@login.example").body
    )
    assert display_names(pox(server, "zoe@login.example", mobilesync=True)) == []
    profile = request(server.base, "/apple/profile.mobileconfig?emailaddress=zoe@login.example")
    unknown = request(server.base, "/apple/profile.mobileconfig?emailaddress=gho@login.example")
    mail, other = (plistlib.loads(r.body)["PayloadContent"][0] for r in (profile, unknown))
    assert mail.get("EmailAccountName") == other.get("EmailAccountName")
    # a login the template cannot give is still the directory's (and so still told apart)
    login = etree.fromstring(pox(server, "jane.doe@login.example").body).xpath(
        "//r:LoginName/text()", namespaces=NS)
    assert login == ["jdoe", "jdoe"]


def test_reveal_nothing_answers_the_template_and_never_asks(server: RunningServer) -> None:
    before = request(server.base, "/metrics").text
    jane = thunderbird(server, "jane.doe@nothing.example")
    ghost = thunderbird(server, "ghost@nothing.example")
    assert jane.body == ghost.body
    assert jane.header("Cache-Control") == "public, max-age=3600"  # the shared document
    known = pox(server, "jane.doe@nothing.example")
    assert masked(known, "jane.doe") == masked(pox(server, "ghost@nothing.example"), "ghost")
    lookups = [line for line in request(server.base, "/metrics").text.splitlines()
               if line.startswith("autoconfig_directory_lookups_total")]
    assert lookups == [line for line in before.splitlines()
                       if line.startswith("autoconfig_directory_lookups_total")]
