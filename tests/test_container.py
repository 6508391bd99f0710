"""The image and the Kubernetes manifests, run for real with ``podman kube play``.

Builds the image with ``make image`` (the Debian base once per machine, then the image
from the repository with podman), plays deploy/kubernetes/ (two replicas),
sends every client's requests, updates the domain files as the kubelet updates a
ConfigMap, and stops the pods. Changes to the manifests, made here only because podman
is not a cluster: ``hostNetwork`` (podman here cannot give pods their own network) with
the server on a free loopback port shared by both replicas (AUTOCONFIG_REUSE_PORT), and
the ConfigMap's files in a kubelet-style directory (podman copies a ConfigMap once and
never updates it). Run as root, the test installs podman, runc, catatonit and mmdebstrap
from Debian; without them it fails under CI=true and is skipped otherwise, saying why.
"""

from __future__ import annotations

import json
import os
import plistlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from tests.support.http import Reply, free_port, request
from tests.support.kubelet import write_atomically_as_kubelet
from tests.support.paths import REPO
from tests.support.system import require_program

KUBE_DIR = REPO / "deploy" / "kubernetes"
CONTAINERS_CONF = REPO / "deploy" / "podman" / "containers.conf"
IMAGE = "localhost/autoconfig:test"
PODS = ("autoconfig-pod-0", "autoconfig-pod-1")
CONTAINERS = tuple(f"{pod}-autoconfig" for pod in PODS)
POX = (
    b'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
    b'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>bob@example.com'
    b"</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/"
    b"outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
)
RESPONSE_NS = {"r": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}


def podman(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run podman with the shipped containers.conf; fail with its output."""
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
    result = subprocess.run(["podman", *args], capture_output=True, text=True, env=env,
                            timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


@pytest.fixture(scope="module")
def image() -> str:
    """The image built from this checkout, as `make image` builds it."""
    for program, package in (("podman", "podman"), ("runc", "runc"),
                             ("catatonit", "catatonit"), ("mmdebstrap", "mmdebstrap")):
        require_program(program, package)
    started = time.monotonic()
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), "image", f"IMAGE={IMAGE}",
         f"PYTHON={sys.executable}", f"PODMAN_CONF={CONTAINERS_CONF}"],
        capture_output=True, text=True, timeout=1200, check=False,
    )
    assert result.returncode == 0, f"make image failed:\n{result.stdout}\n{result.stderr}"
    print(f"image built in {time.monotonic() - started:.0f} s")  # seen with pytest -s
    return IMAGE


def manifests() -> list[dict[str, Any]]:
    """Every document the kustomization lists, in its order."""
    kustomization = yaml.safe_load((KUBE_DIR / "kustomization.yaml").read_text())
    documents: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        documents.extend(yaml.safe_load_all((KUBE_DIR / resource).read_text()))
    return documents


@dataclass
class Played:
    """The manifests running under podman."""

    base: str
    domains: Path
    files: dict[str, str]
    play_file: Path


def render(documents: list[dict[str, Any]], port: int, domains: Path) -> list[dict[str, Any]]:
    """The podman-specific changes listed in the module docstring; nothing else."""
    rendered = []
    for document in documents:
        if document["kind"] == "ConfigMap":
            continue  # its files are in ``domains``, laid out by the kubelet's rules
        if document["kind"] == "Deployment":
            spec = document["spec"]["template"]["spec"]
            spec["hostNetwork"] = True
            container = spec["containers"][0]
            container["image"] = IMAGE
            env = {item["name"]: item for item in container["env"]}
            env["AUTOCONFIG_BIND"]["value"] = f"127.0.0.1:{port}"
            container["env"] += [{"name": "AUTOCONFIG_REUSE_PORT", "value": "true"},
                                 {"name": "AUTOCONFIG_RELOAD_INTERVAL", "value": "0.5"}]
            del container["ports"]  # host network: no port mapping
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                container[probe]["httpGet"]["port"] = port
            for volume in spec["volumes"]:
                if volume["name"] == "domains":
                    del volume["configMap"]
                    volume["hostPath"] = {"path": str(domains), "type": "Directory"}
        rendered.append(document)
    return rendered


@pytest.fixture(scope="module")
def played(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    directory = tmp_path_factory.mktemp("kube")
    domains = directory / "domains"
    domains.mkdir(mode=0o755)
    documents = manifests()
    (config_map,) = [d for d in documents if d["kind"] == "ConfigMap"]
    files: dict[str, str] = dict(config_map["data"])
    write_atomically_as_kubelet(domains, files, 1)
    port = free_port()
    play_file = directory / "play.yaml"
    play_file.write_text(yaml.safe_dump_all(render(documents, port, domains)))
    podman("kube", "down", str(play_file), check=False)  # a run that was interrupted
    podman("kube", "play", str(play_file))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not all(_listening(name) for name in CONTAINERS):
            if time.monotonic() > deadline:
                logs = "\n".join(podman("logs", name, check=False).stderr for name in CONTAINERS)
                raise AssertionError(f"the replicas did not start:\n{logs}")
            time.sleep(0.5)
        yield Played(base, domains, files, play_file)
    finally:
        podman("kube", "down", str(play_file), check=False)


def _listening(container: str) -> bool:
    result = podman("logs", container, check=False)
    return "Listening at:" in result.stdout + result.stderr


def logs(container: str) -> str:
    result = podman("logs", container)
    return result.stdout + result.stderr


def test_the_image_alone_runs_read_only_and_checks_its_health(
    image: str, tmp_path: Path
) -> None:
    # The image's own HEALTHCHECK (podman turns a Kubernetes httpGet probe into a curl
    # command instead, which this image does not carry; a kubelet probes over HTTP itself).
    domains = REPO / "domains"
    port = free_port()
    name = f"autoconfig-test-{port}"
    podman("run", "--detach", "--name", name, "--read-only", "--network", "host",
           "--env", f"AUTOCONFIG_BIND=127.0.0.1:{port}", "--volume",
           f"{domains}:/etc/autoconfig/domains:ro", image)
    try:
        deadline = time.monotonic() + 30
        while not _listening(name) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert request(f"http://127.0.0.1:{port}", "/healthz").status == 200
        assert podman("healthcheck", "run", name).returncode == 0
        podman("stop", "--time", "30", name)
        state = json.loads(podman("inspect", name).stdout)[0]["State"]
        assert (state["Status"], state["ExitCode"]) == ("exited", 0)
    finally:
        podman("rm", "--force", name, check=False)


def test_two_replicas_answer_as_non_root_on_a_read_only_root(played: Played) -> None:
    for container in CONTAINERS:
        assert podman("exec", container, "id", "-u").stdout == "10001\n"
        write = podman("exec", container, "touch", "/opt/autoconfig/x", check=False)
        assert write.returncode == 1
        assert "Read-only file system" in write.stderr
        inspect = json.loads(podman("inspect", container).stdout)[0]
        assert inspect["HostConfig"]["ReadonlyRootfs"] is True
    # Fresh connections are spread over both replicas by the kernel (SO_REUSEPORT).
    for _ in range(40):
        assert request(played.base, "/readyz").status == 200
    for container in CONTAINERS:
        assert '"GET /readyz" 200' in logs(container)


def test_every_client_is_answered(played: Played) -> None:
    thunderbird = request(played.base, "/mail/config-v1.1.xml?emailaddress=alice@example.com")
    assert thunderbird.status == 200
    root = etree.fromstring(thunderbird.body)
    assert root.xpath("string(/clientConfig/emailProvider/@id)") == "example.com"
    assert root.xpath("string(//incomingServer[@type='imap']/hostname)") == "mail.example.com"

    pox = request(played.base, "/Autodiscover/Autodiscover.xml", method="POST", body=POX,
                  headers={"Content-Type": "text/xml"})
    assert pox.status == 200
    servers = etree.fromstring(pox.body).xpath(
        "//r:Protocol[r:Type='IMAP']/r:Server/text()", namespaces=RESPONSE_NS
    )
    assert servers == ["mail.example.com"]

    v2 = request(played.base,
                 "/autodiscover/autodiscover.json/v1.0/carol@example.org?Protocol=AutodiscoverV1")
    assert v2.status == 200
    assert json.loads(v2.body) == {
        "Protocol": "AutodiscoverV1",
        "Url": "https://autodiscover.example.org/autodiscover/autodiscover.xml",
    }

    profile = request(played.base, "/apple/profile.mobileconfig?emailaddress=dave@example.com")
    assert profile.status == 200
    payload = plistlib.loads(profile.body)["PayloadContent"][0]
    assert payload["IncomingMailServerHostName"] == "mail.example.com"

    page = request(played.base, "/?emailaddress=erin@example.net")
    assert page.status == 200
    assert "Settings for erin@example.net" in page.text

    metrics = request(played.base, "/metrics").text
    assert re.search(r'^autoconfig_requests_total\{family="health",status="2xx"\} \d', metrics,
                     re.MULTILINE)
    assert "@" not in metrics


def _serves(base: str, host: str) -> bool:
    replies: list[Reply] = [
        request(base, "/mail/config-v1.1.xml?emailaddress=alice@example.com") for _ in range(20)
    ]
    return all(f"<hostname>{host}</hostname>".encode() in reply.body for reply in replies)


def test_a_configmap_update_reaches_both_replicas(played: Played) -> None:
    files = dict(played.files)
    files["example.com.yaml"] = files["example.com.yaml"].replace(
        "mail.example.com", "imap.example.com"
    )
    write_atomically_as_kubelet(played.domains, files, 2)
    deadline = time.monotonic() + 20
    while not _serves(played.base, "imap.example.com") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _serves(played.base, "imap.example.com")
    for container in CONTAINERS:  # each replica reloaded once: its master (at start, then
        # after the edit), which then replaced its workers
        assert logs(container).count("serving 3 domains from 2 files (0 errors)") == 2


def test_the_pods_stop_cleanly(played: Played) -> None:
    podman("pod", "stop", "--time", "30", *PODS, timeout=120)
    for container in CONTAINERS:
        state = json.loads(podman("inspect", container).stdout)[0]["State"]
        assert (state["Status"], state["ExitCode"]) == ("exited", 0)
        assert "Shutting down: Master" in logs(container)
    podman("kube", "down", str(played.play_file))
    assert podman("pod", "exists", PODS[0], check=False).returncode == 1
