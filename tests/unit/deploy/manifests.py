"""deploy/k8s as the tests see it: each overlay built (kustomize.py), and the repo's sources beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.unit.deploy.kustomize import Resource, build

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
