"""What a kubelet gives a pod: domain files laid out and updated as it does a mounted
ConfigMap, and the service-link variables of the namespace's Services."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically_as_kubelet(directory: Path, files: dict[str, str], version: int) -> None:
    """Kubernetes' AtomicWriter: files in a fresh ``..<timestamp>`` directory, ``..data``
    pointing at it (replaced by one rename), and each key a symlink through ``..data``."""
    payload = directory / f"..2026_11_30_00_00_0{version}.000000001"
    payload.mkdir()
    for name, text in files.items():
        (payload / name).write_text(text)
    new_link = directory / "..data_tmp"
    new_link.symlink_to(payload.name)
    old = os.readlink(directory / "..data") if (directory / "..data").is_symlink() else None
    new_link.rename(directory / "..data")  # the atomic swap
    for name in files:
        if not (directory / name).is_symlink():
            (directory / name).symlink_to(f"..data/{name}")
    for name in {p.name for p in directory.iterdir() if p.is_symlink()} - set(files) - {
        "..data"
    }:
        (directory / name).unlink()
    if old:
        for stale in (directory / old).iterdir():
            stale.unlink()
        (directory / old).rmdir()


def kubelet_service_links(service: str, ip: str, ports: dict[str, int]) -> dict[str, str]:
    """The variables a kubelet sets for one Service (enableServiceLinks, the default)."""
    prefix = service.upper().replace("-", "_")
    first = next(iter(ports.values()))
    links = {f"{prefix}_SERVICE_HOST": ip, f"{prefix}_SERVICE_PORT": str(first),
             f"{prefix}_PORT": f"tcp://{ip}:{first}"}
    for name, port in ports.items():
        links[f"{prefix}_SERVICE_PORT_{name.upper().replace('-', '_')}"] = str(port)
        links[f"{prefix}_PORT_{port}_TCP"] = f"tcp://{ip}:{port}"
        links[f"{prefix}_PORT_{port}_TCP_PROTO"] = "tcp"
        links[f"{prefix}_PORT_{port}_TCP_PORT"] = str(port)
        links[f"{prefix}_PORT_{port}_TCP_ADDR"] = ip
    return links


KUBELET_VARIABLES = {
    **kubelet_service_links("autoconfig", "10.96.0.10", {"site": 8080, "plain-http": 8081}),
    **kubelet_service_links("autoconfig-app", "10.96.0.11", {"http": 8000}),
}
