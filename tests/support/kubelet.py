"""Domain files laid out as the kubelet lays out a mounted ConfigMap, and updated as it does."""

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
