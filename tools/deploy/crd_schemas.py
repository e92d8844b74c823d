"""`python -m tools.deploy.crd_schemas CRD_FOLDER TAG COMMIT`: Dapr's CRD schemas for offline validation.

Reads the CustomResourceDefinitions of Dapr's Helm chart (charts/dapr/crds/ of a dapr/dapr checkout at
TAG) and writes, per kind and served version that deploy/k8s uses, only its openAPIV3Schema to
deploy/k8s/schemas/<kind>.<version>.yaml under a comment naming the tag and commit it came from.
tests/unit/deploy validates the rendered Dapr resources against these files with `jsonschema`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from tools.deploy.sources import ROOT

OUT = ROOT / "deploy" / "k8s" / "schemas"
KINDS = {"components.yaml", "configuration.yaml", "resiliency.yaml", "subscription.yaml"}
"""The chart's CRD files for the kinds Junction declares (Component, Configuration, Resiliency, Subscription)."""


class _Dumper(yaml.SafeDumper):
    """Keeps the chart's multi-line descriptions as blocks, as they read in the chart."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def schema_file(kind: str, version: str) -> Path:
    return OUT / f"{kind.lower()}.{version}.yaml"


def extract(folder: Path, tag: str, commit: str) -> list[Path]:
    written: list[Path] = []
    for crd_file in sorted(folder.glob("*.yaml")):
        if crd_file.name not in KINDS:
            continue
        crd: dict[str, Any] = yaml.safe_load(crd_file.read_text())
        kind, group = crd["spec"]["names"]["kind"], crd["spec"]["group"]
        for version in crd["spec"]["versions"]:
            if not version.get("served"):
                continue
            path = schema_file(kind, version["name"])
            source = f"charts/dapr/crds/{crd_file.name}"
            header = (
                f"# {kind} ({group}/{version['name']}): spec.versions[name={version['name']}].schema.openAPIV3Schema\n"
                f"# of {source} in github.com/dapr/dapr at {tag} (commit {commit}), unchanged.\n"
                "# Written by `python -m tools.deploy.crd_schemas`; tests/unit/deploy validates deploy/k8s with it.\n"
            )
            body = yaml.dump(version["schema"]["openAPIV3Schema"], Dumper=_Dumper, sort_keys=False, width=10_000)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(header + body)
            written.append(path)
    return written


def load(kind: str, version: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(schema_file(kind, version).read_text())
    return loaded


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    for written in extract(Path(sys.argv[1]), sys.argv[2], sys.argv[3]):
        print(f"wrote {written.relative_to(ROOT)}")
