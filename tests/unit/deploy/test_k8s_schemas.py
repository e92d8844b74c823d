"""deploy/k8s validated offline against schemas: built-in kinds against Kubernetes' own (kubernetes-validate,
strict: an unknown field fails), Dapr's kinds against the CRD schemas of Dapr 1.18.3's Helm chart
(deploy/k8s/schemas; unknown fields refused, as the API server's strict field validation refuses them).

No cluster and no kustomize here: tests/unit/deploy/helpers.py builds the overlays (docs/scaling.md).
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
import yaml
from kubernetes_validate.utils import ValidationError as KubernetesValidationError
from kubernetes_validate.utils import validate as validate_builtin

from tests.unit.deploy.helpers import K8S, OVERLAYS, SUPPORTED_KEYS, Resource, kustomization, kustomizations, of

SCHEMAS = K8S / "schemas"
KUBERNETES_VERSIONS = ("1.30", "1.37")
"""The oldest release with ContainerResource autoscaling stable, and the newest kubernetes-validate 1.37.0 knows."""
DAPR_GROUP = "dapr.io"


def _strict(schema: Any) -> Any:
    """A CRD schema that refuses fields it does not declare, as `kubectl apply` (strict field validation) does."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    declared = "properties" in strict and "additionalProperties" not in strict
    if declared and not strict.get("x-kubernetes-preserve-unknown-fields"):
        strict["additionalProperties"] = False
    return strict


def _crd_schema(resource: Resource) -> dict[str, Any]:
    version = resource["apiVersion"].split("/")[1]
    schema: dict[str, Any] = yaml.safe_load((SCHEMAS / f"{resource['kind'].lower()}.{version}.yaml").read_text())
    return schema


def test_the_crd_schemas_name_the_dapr_release_they_come_from() -> None:
    for path in sorted(SCHEMAS.glob("*.yaml")):
        assert "github.com/dapr/dapr at v1.18.3 (commit 2dcf2e3548faf3c740b3d29ee300e2132db65cff)" in path.read_text()


def test_every_kustomization_keeps_to_what_the_test_build_understands() -> None:
    found = kustomizations(K8S)
    assert {path.name for path in found if path.parent.name == "overlays"} == {
        "redis",
        "nats",
        "kafka",
        "postgres-rabbitmq",
    }
    for folder in found:
        assert set(kustomization(folder)) <= SUPPORTED_KEYS, folder


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_built_in_kinds_follow_kubernetes_schemas(overlay: str, version: str) -> None:
    builtin = [r for r in OVERLAYS[overlay] if not r["apiVersion"].startswith(f"{DAPR_GROUP}/")]
    assert {r["kind"] for r in builtin} >= {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
    for resource in builtin:
        validate_builtin(resource, version, strict=True)


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_dapr_kinds_follow_the_crd_schemas_of_dapr_1_18_3(overlay: str) -> None:
    dapr = [r for r in OVERLAYS[overlay] if r["apiVersion"].startswith(f"{DAPR_GROUP}/")]
    assert {r["kind"] for r in dapr} == {"Component", "Configuration", "Resiliency", "Subscription"}
    for resource in dapr:
        jsonschema.Draft7Validator(_strict(_crd_schema(resource))).validate(resource)


def test_the_strict_crd_check_refuses_a_misspelt_field() -> None:
    resource = copy.deepcopy(of(OVERLAYS["redis"], "Configuration")["gateway"])
    resource["spec"]["accessControl"]["defaultActon"] = "allow"
    with pytest.raises(jsonschema.ValidationError, match="defaultActon"):
        jsonschema.Draft7Validator(_strict(_crd_schema(resource))).validate(resource)


def test_the_strict_kubernetes_check_refuses_a_misspelt_field() -> None:
    resource = copy.deepcopy(of(OVERLAYS["redis"], "Deployment")["gateway"])
    resource["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    with pytest.raises(KubernetesValidationError, match="imagePullPolcy"):
        validate_builtin(resource, KUBERNETES_VERSIONS[0], strict=True)
