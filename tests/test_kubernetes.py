"""deploy/kubernetes/ as shipped: rendered by kubectl (kustomize), played by podman.

The first tests read the rendered manifests as a cluster would get them (production
overlay) for what a reviewer checks: probes the images can serve, no service links, a
drain before stop, budgets that fit any replica count, who may reach the app, pinned
images, the Gateway routes. The rest build both images with `make image` and
`make edge-image`, play ``overlays/podman`` exactly as it is in the repository (two app
replicas and two edges on the host's loopback), and use it as clients do: through the
edge, with a replica killed under load.
"""

from __future__ import annotations

import json
import plistlib
import re
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import yaml
from lxml import etree

from autoconfig import hosts
from tests.support.kubelet import KUBELET_VARIABLES
from tests.support.paths import REPO, TEST_DATA
from tests.support.podman import (
    APP_CONTAINERS,
    EDGE_CONTAINERS,
    PLAIN,
    SITE,
    kustomize,
    logs,
    make,
    played,
    podman,
    require_free,
    require_podman,
    via_gateway,
)

POX = (TEST_DATA / "autodiscover" / "requests" / "outlook-alice.xml").read_bytes()
POX_HEADERS = {"Host": "autodiscover.example.com", "Content-Type": "text/xml"}
RESPONSE_NS = {"r": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
UNSIGNED = ("profiles are served unsigned (iOS shows them as Unverified); set"
            " AUTOCONFIG_SIGNING_CERT and AUTOCONFIG_SIGNING_KEY to sign them")
ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+\.[A-Za-z0-9.-]+")


def documents(overlay: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(kustomize(overlay)) if d]


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


# What a cluster gets (overlays/production).


def test_every_pod_runs_probes_its_image_can_serve_and_no_service_links() -> None:
    deployments = of_kind(documents("production"), "Deployment")
    assert set(deployments) == {"autoconfig-app", "autoconfig-edge"}
    for deployment in deployments.values():
        spec = deployment["spec"]["template"]["spec"]
        assert spec["enableServiceLinks"] is False
        (container,) = spec["containers"]
        probes = [container[p] for p in ("startupProbe", "livenessProbe", "readinessProbe")
                  if p in container]
        assert len(probes) >= 2
        # exec probes only: podman turns httpGet into curl, which neither image has.
        assert all(set(probe) - {"periodSeconds", "timeoutSeconds", "failureThreshold"}
                   == {"exec"} for probe in probes)
        assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
        assert spec["terminationGracePeriodSeconds"] > 5 + 20  # pause + gunicorn's grace
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
    app = deployments["autoconfig-app"]["spec"]["template"]["spec"]["containers"][0]
    # Liveness and readiness ask different questions.
    assert app["livenessProbe"]["exec"]["command"][-1] == "/healthz"
    assert app["readinessProbe"]["exec"]["command"][-1] == "/readyz"


def test_the_app_pods_match_the_image() -> None:
    docs = documents("production")
    pod = of_kind(docs, "Deployment")["autoconfig-app"]["spec"]["template"]["spec"]
    # The Containerfile's USER is the pod's user; the root filesystem is read-only.
    user = re.search(r"^USER (\d+):(\d+)$", (REPO / "Containerfile").read_text(), re.MULTILINE)
    assert user is not None
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (
        int(user[1]), int(user[2]))
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert mounts == {"domains": "/etc/autoconfig/domains", "tmp": "/tmp"}
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env["AUTOCONFIG_BIND"].endswith(f":{container['ports'][0]['containerPort']}")
    (config_map,) = of_kind(docs, "ConfigMap").values()
    volume = next(v for v in pod["volumes"] if v["name"] == "domains")
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    assert all(key.endswith((".yaml", ".yml")) for key in config_map["data"])


@pytest.mark.parametrize("overlay", ["production", "podman", "podman-volume"])
def test_everything_has_a_namespace(overlay: str) -> None:
    docs = documents(overlay)
    assert list(of_kind(docs, "Namespace")) == ["autoconfig"]
    assert all(d["metadata"].get("namespace") == "autoconfig" for d in docs
               if d["kind"] != "Namespace")


def test_budgets_fit_any_replica_count() -> None:
    docs = documents("production")
    budgets = of_kind(docs, "PodDisruptionBudget")
    assert {name: b["spec"] for name, b in budgets.items()} == {
        name: {"maxUnavailable": 1, "selector": {"matchLabels": {
            "app.kubernetes.io/name": "autoconfig", "app.kubernetes.io/component": part}}}
        for name, part in (("autoconfig-app", "app"), ("autoconfig-edge", "edge"))
    }


def test_only_the_edge_and_the_scraper_reach_the_app() -> None:
    policies = of_kind(documents("production"), "NetworkPolicy")
    app = policies["autoconfig-app"]["spec"]
    assert app["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "app"
    sources = [rule["from"] for rule in app["ingress"]]
    assert sources == [
        [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "autoconfig",
                                          "app.kubernetes.io/component": "edge"}}}],
        [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
    ]
    edge = policies["autoconfig-edge"]["spec"]
    assert [p["port"] for p in edge["ingress"][0]["ports"]] == [8080, 8081]


def test_production_pins_both_images_to_the_release() -> None:
    images = [c["image"] for d in of_kind(documents("production"), "Deployment").values()
              for c in d["spec"]["template"]["spec"]["containers"]]
    assert sorted(images) == [f"registry.example.org/mail/autoconfig-edge:{VERSION}",
                              f"registry.example.org/mail/autoconfig:{VERSION}"]


def test_the_gateway_routes_reach_the_edges_ports_and_no_ingress_controller_is_needed() -> None:
    docs = documents("production")
    assert not [d for d in docs if d["kind"] == "Ingress"]
    ports = {p["port"]: p["name"]
             for p in of_kind(docs, "Service")["autoconfig"]["spec"]["ports"]}
    edge = of_kind(docs, "Deployment")["autoconfig-edge"]["spec"]["template"]["spec"]
    assert {p["name"] for p in edge["containers"][0]["ports"]} == set(ports.values())
    gateway = of_kind(docs, "Gateway")["autoconfig"]["spec"]
    listeners = {listener["name"]: listener for listener in gateway["listeners"]}
    assert listeners["https"]["tls"]["mode"] == "Terminate"
    routes = of_kind(docs, "HTTPRoute")
    targets = {(ref["sectionName"], backend["name"], backend["port"])
               for route in routes.values() for ref in route["spec"]["parentRefs"]
               for rule in route["spec"]["rules"] for backend in rule["backendRefs"]}
    assert targets == {("https", "autoconfig", 8080), ("http", "autoconfig", 8081)}
    assert ports == {8080: "site", 8081: "plain-http"}
    # Every name a client asks under, for the example domain; the domain's own name only
    # for the paths clients try there.
    names = {name for route in routes.values() for name in route["spec"]["hostnames"]}
    assert names == {prefix + "example.com" for prefix in hosts.ALL} | {"example.com"}
    own = routes["autoconfig-domain"]["spec"]["rules"][0]["matches"]
    assert all(match["path"]["value"] not in ("/", "/metrics") for match in own)


def test_the_volume_component_mounts_the_claim_read_only_instead_of_the_config_map() -> None:
    claim = yaml.safe_load(
        (REPO / "deploy/kubernetes/components/domains-volume/claim.yaml").read_text())
    assert claim["spec"]["accessModes"] == ["ReadOnlyMany"]  # every replica mounts it
    docs = documents("podman-volume")  # the component, with podman's own volume as claim
    assert of_kind(docs, "ConfigMap") == of_kind(docs, "PersistentVolumeClaim") == {}
    pod = of_kind(docs, "Deployment")["autoconfig-app"]["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "domains")
    assert volume == {"name": "domains", "persistentVolumeClaim": {
        "claimName": claim["metadata"]["name"], "readOnly": True}}
    assert pod["containers"][0]["resources"]["limits"]["memory"] == "512Mi"


# overlays/podman, played.


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    require_podman()
    require_free(8000, 8080, 8081)
    make("image")
    make("edge-image")
    with played("podman", [*APP_CONTAINERS, *EDGE_CONTAINERS]) as manifests:
        yield manifests


def test_the_pods_run_as_non_root_on_a_read_only_root_and_pass_their_probes(
    cluster: str
) -> None:
    for container in (*APP_CONTAINERS, *EDGE_CONTAINERS):
        assert podman("exec", container, "id", "-u").stdout == "10001\n"
        inspect = json.loads(podman("inspect", container).stdout)[0]
        assert inspect["HostConfig"]["ReadonlyRootfs"] is True
        assert podman("healthcheck", "run", container).returncode == 0
    for container in APP_CONTAINERS:
        log = logs(container)
        assert "serving 3 domains from 2 files (0 errors)" in log
        # The one warning is advice the example earns (no signing certificate is given);
        # none is about the environment (settings.py SERVICE_LINK).
        warnings = [line for line in log.splitlines() if "WARNING" in line.upper()]
        assert [line.partition("autoconfig: ")[2] for line in warnings] == [UNSIGNED], log


def test_every_client_is_answered_through_the_edge(cluster: str) -> None:
    thunderbird = via_gateway(SITE, "/mail/config-v1.1.xml?emailaddress=alice@example.com",
                              headers={"Host": "autoconfig.example.com"})
    assert thunderbird.status == 200
    root = etree.fromstring(thunderbird.body)
    assert root.xpath("string(//incomingServer[@type='imap']/hostname)") == "mail.example.com"
    again = via_gateway(SITE, "/mail/config-v1.1.xml?emailaddress=zoe@example.com",
                        headers={"Host": "autoconfig.example.com"})
    assert (again.body, again.headers["X-Cache-Status"]) == (thunderbird.body, "HIT")

    pox = via_gateway(SITE, "/Autodiscover/Autodiscover.xml", method="POST", body=POX,
                      headers=POX_HEADERS)
    assert pox.status == 200
    servers = etree.fromstring(pox.body).xpath(
        "//r:Protocol[r:Type='IMAP']/r:Server/text()", namespaces=RESPONSE_NS)
    assert servers == ["mail.example.com"]

    v2 = via_gateway(SITE, "/autodiscover/autodiscover.json/v1.0/carol@example.org"
                 "?Protocol=AutodiscoverV1", headers={"Host": "autodiscover.example.org"})
    assert json.loads(v2.body) == {
        "Protocol": "AutodiscoverV1",
        "Url": "https://autodiscover.example.org/autodiscover/autodiscover.xml",
    }  # https: the edge tells the app the request came over TLS at the Gateway

    pacc = via_gateway(SITE, "/.well-known/user-agent-configuration.json",
                       headers={"Host": "ua-auto-config.example.com"})
    assert pacc.status == 200
    assert "mail.example.com" in pacc.text

    profile = via_gateway(SITE, "/apple/profile.mobileconfig?emailaddress=dave@example.com",
                          headers={"Host": "autoconfig.example.com"})
    assert profile.status == 200
    payload = plistlib.loads(profile.body)["PayloadContent"][0]
    assert payload["IncomingMailServerHostName"] == "mail.example.com"

    page = via_gateway(SITE, "/?emailaddress=erin@example.net",
                       headers={"Host": "autoconfig.example.net"})
    assert page.status == 200
    assert "Settings for erin@example.net" in page.text

    # Outlook's unauthenticated http probe: a 302 to https, from the edge's plain port.
    probe = via_gateway(PLAIN, "/autodiscover/autodiscover.xml",
                        headers={"Host": "autodiscover.example.com"})
    assert probe.status == 302
    assert probe.headers["Location"] == "https://autodiscover.example.com/autodiscover/autodiscover.xml"

    assert via_gateway(SITE, "/metrics", headers={"Host": "autoconfig.example.com"}).status == 403
    big = via_gateway(SITE, "/autodiscover/autodiscover.xml", method="POST", body=b"x" * 20_000,
                      headers=POX_HEADERS)
    assert big.status == 413


def test_both_replicas_answer_and_no_log_holds_an_address(cluster: str) -> None:
    # 32 at once: the edges open that many connections to the app, which the kernel
    # spreads over both replicas (one after another, each would reuse a kept-alive one).
    def pox(_: int) -> int:
        return via_gateway(SITE, "/autodiscover/autodiscover.xml", method="POST", body=POX,
                           headers=POX_HEADERS).status

    with ThreadPoolExecutor(32) as pool:
        assert set(pool.map(pox, range(96))) == {200}
    for container in APP_CONTAINERS:
        assert '"POST /autodiscover/autodiscover.xml" 200' in logs(container), container
    for container in (*APP_CONTAINERS, *EDGE_CONTAINERS):
        found = ADDRESS.findall(logs(container))
        assert found == [], f"{container}: {found[:5]}"


def test_a_replica_killed_under_pox_load_loses_no_request(cluster: str) -> None:
    statuses: Counter[int | str] = Counter()
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                reply = via_gateway(SITE, "/autodiscover/autodiscover.xml", method="POST", body=POX,
                                    headers=POX_HEADERS)
                statuses[reply.status] += 1
            except OSError as error:
                statuses[type(error).__name__] += 1

    clients = [threading.Thread(target=client) for _ in range(8)]
    for thread in clients:
        thread.start()
    time.sleep(2)
    before = sum(statuses.values())
    podman("kill", "--signal", "KILL", APP_CONTAINERS[0])
    time.sleep(4)
    stop.set()
    for thread in clients:
        thread.join(timeout=30)
    assert sum(statuses.values()) - before > 100  # the load went on after the kill
    assert statuses == Counter({200: statuses[200]}), statuses


def test_the_image_takes_no_service_link_for_a_setting(cluster: str) -> None:
    # What a kubelet would give every pod without enableServiceLinks: false, for this
    # namespace's Services autoconfig and autoconfig-app (tests/test_settings.py).
    links = [arg for name, value in KUBELET_VARIABLES.items()
             for arg in ("--env", f"{name}={value}")]
    result = podman("run", "--rm", "--read-only", "--no-healthcheck", *links,
                    "localhost/autoconfig:latest", "settings")
    assert "Warning" not in result.stderr, result.stderr
    assert "AUTOCONFIG_BIND=0.0.0.0:8000" in result.stdout.splitlines()


def test_the_pods_stop_cleanly(cluster: str) -> None:
    pods = [f"{name}-pod-{i}" for name in ("autoconfig-app", "autoconfig-edge") for i in (0, 1)]
    podman("pod", "stop", "--time", "30", *pods[1::2], timeout=120)
    for container in (APP_CONTAINERS[1], EDGE_CONTAINERS[1]):
        state = json.loads(podman("inspect", container).stdout)[0]["State"]
        assert (state["Status"], state["ExitCode"]) == ("exited", 0), container
    assert "Shutting down: Master" in logs(APP_CONTAINERS[1])
