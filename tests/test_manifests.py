"""What podman kube play does not look at in deploy/kubernetes/: checked against the image."""

from __future__ import annotations

import re
from typing import Any

import yaml

from autoconfig import hosts
from tests.support.paths import REPO

KUBE_DIR = REPO / "deploy" / "kubernetes"


def documents() -> dict[str, dict[str, Any]]:
    kustomization = yaml.safe_load((KUBE_DIR / "kustomization.yaml").read_text())
    found = {}
    for resource in kustomization["resources"]:
        for document in yaml.safe_load_all((KUBE_DIR / resource).read_text()):
            found[document["kind"]] = document
    return found


def test_the_pods_match_the_image_and_each_other() -> None:
    manifests = documents()
    deployment = manifests["Deployment"]
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert manifests["Service"]["spec"]["selector"] == labels
    assert manifests["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels
    assert manifests["PodDisruptionBudget"]["spec"]["minAvailable"] == 1
    # The Containerfile's USER is the pod's user; the root filesystem is read-only.
    user = re.search(r"^USER (\d+):(\d+)$", (REPO / "Containerfile").read_text(), re.MULTILINE)
    assert user is not None
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (
        int(user[1]), int(user[2])
    )
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    # Liveness and readiness ask different questions.
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert mounts == {"domains": "/etc/autoconfig/domains", "tmp": "/tmp"}
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env["AUTOCONFIG_BIND"].endswith(f":{container['ports'][0]['containerPort']}")
    configmap = next(v for v in pod["volumes"] if v["name"] == "domains")["configMap"]["name"]
    assert configmap == manifests["ConfigMap"]["metadata"]["name"]
    assert all(key.endswith((".yaml", ".yml")) for key in manifests["ConfigMap"]["data"])


def test_the_ingress_routes_every_host_family_but_never_metrics() -> None:
    ingress = documents()["Ingress"]["spec"]
    rules = {rule["host"]: [p["path"] for p in rule["http"]["paths"]] for rule in ingress["rules"]}
    domain = "example.com"
    assert set(rules) == {prefix + domain for prefix in hosts.ALL} | {domain}
    assert set(ingress["tls"][0]["hosts"]) == set(rules)
    for paths in rules.values():
        assert not any(path in ("/metrics", "/healthz", "/readyz") for path in paths)
    for rule in ingress["rules"]:
        for path in rule["http"]["paths"]:
            assert path["pathType"] != "Prefix" or path["path"] != "/", rule["host"]
