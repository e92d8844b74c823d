"""The part of `kustomize build` deploy/k8s uses: `resources` (files and folders), nothing else.

kustomize itself is not installed here; test_k8s.py checks that every kustomization.yaml keeps to this
subset, so what these tests validate is what `kubectl apply -k` would send.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]
KUSTOMIZATION = "kustomization.yaml"
SUPPORTED_KEYS = {"apiVersion", "kind", "resources"}


def kustomization(folder: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((folder / KUSTOMIZATION).read_text())
    return loaded


def build(folder: Path) -> list[Resource]:
    """Every resource the kustomization in `folder` emits, its bases' first, in listed order."""
    resources: list[Resource] = []
    for entry in kustomization(folder)["resources"]:
        path = (folder / entry).resolve()
        if path.is_dir():
            resources += build(path)
        else:
            resources += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return resources


def kustomizations(root: Path) -> list[Path]:
    return sorted(path.parent for path in root.rglob(KUSTOMIZATION))
