"""deploy/k8s as the tests see it: each overlay built as `kustomize build` would, and the repo's sources beside it.

The builder does the part of `kustomize build` deploy/k8s uses: `resources` (files and folders), nothing else.
kustomize itself is not installed here; test_k8s_schemas.py checks that every kustomization.yaml keeps to this
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


ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = {path.name: build(path) for path in sorted((K8S / "overlays").iterdir())}
RUN_FILE: dict[str, Any] = yaml.safe_load((ROOT / "dapr.yaml").read_text())
COMMON: dict[str, Any] = RUN_FILE["common"]
RUN_APPS = {str(app["appID"]): app for app in RUN_FILE["apps"]}
PROFILES: dict[str, Any] = yaml.safe_load((ROOT / "components" / "profiles.yaml").read_text())
NAMESPACE = "junction"


def of(resources: list[Resource], kind: str) -> dict[str, Resource]:
    """The resources of one kind, by name."""
    return {str(r["metadata"]["name"]): r for r in resources if r["kind"] == kind}


def documents(path: Path) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def component_files(folder: Path) -> list[Resource]:
    return [doc for path in sorted(folder.glob("*.yaml")) for doc in documents(path) if doc["kind"] == "Component"]
