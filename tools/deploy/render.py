"""Every rendered file of deploy/ (path -> text), written by `render` and compared by `check` and the tests."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tools.deploy import compose_files
from tools.deploy.emit import dump
from tools.deploy.k8s_access import autoscaling, namespace, secret_readers, service_account
from tools.deploy.k8s_dapr import common_resources, configurations, profile_components, secret_stores
from tools.deploy.k8s_plan import IMAGE
from tools.deploy.k8s_tracing import trace_backend
from tools.deploy.k8s_workloads import PUBLIC_APP, deployment, public_service
from tools.deploy.sources import DEPLOYED_PROFILES, ROOT, run_apps

K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
SCHEMAS = K8S / "schemas"
"""Not rendered: Dapr's CRD schemas, taken from dapr/dapr by tools/deploy/crd_schemas.py."""
RENDERED_DIRS = (BASE, K8S / "overlays", *(compose_files.OUT / name for name in ("components", "env", "postgres")))


def image() -> str:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    return f"{IMAGE}:{version}"


def kustomization(resources: list[str], source: str) -> str:
    return dump(
        [{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}], source
    )


def base() -> dict[Path, str]:
    apps = run_apps()
    files = {
        BASE / "namespace.yaml": dump([namespace()], "tools/deploy/k8s_dapr.py"),
        BASE / "access.yaml": dump(
            [*(service_account(app) for app in apps), *secret_readers(apps)], "dapr.yaml", "config/ (secrets.scopes)"
        ),
        BASE / "dapr" / "configurations.yaml": dump(configurations(), "config/<app-id>.yaml"),
        BASE / "dapr" / "resiliency.yaml": dump(common_resources("Resiliency"), "components/common/resiliency.yaml"),
        BASE / "dapr" / "subscriptions.yaml": dump(
            common_resources("Subscription"), "components/common/subscriptions.yaml"
        ),
        BASE / "dapr" / "components.yaml": dump(
            [*common_resources("Component"), *secret_stores()], "components/common/", "the profiles' secret stores"
        ),
        BASE / "jaeger.yaml": dump(trace_backend(), "tools/servers/jaeger.py", "components/profiles.yaml"),
    }
    for app in apps:
        resources = [deployment(app, image())]
        if app.app_id == PUBLIC_APP:
            resources.append(public_service(app))
        resources += autoscaling(app)
        files[BASE / "apps" / f"{app.app_id}.yaml"] = dump(resources, "dapr.yaml", "tools/deploy/k8s_plan.py")
    listed = [str(path.relative_to(BASE)) for path in files]  # the namespace first, then who, then what runs
    files[BASE / "kustomization.yaml"] = kustomization(listed, "tools/deploy/render.py")
    return files


def overlays() -> dict[Path, str]:
    files: dict[Path, str] = {}
    for name in DEPLOYED_PROFILES:
        folder = K8S / "overlays" / name
        files[folder / "components.yaml"] = dump(profile_components(name), f"components/{name}/")
        files[folder / "kustomization.yaml"] = kustomization(
            ["../../base", "components.yaml"], "tools/deploy/render.py"
        )
    return files


def rendered() -> dict[Path, str]:
    return {**base(), **overlays(), **compose_files.rendered()}


def _stale(files: dict[Path, str]) -> list[Path]:
    on_disk = {path for folder in RENDERED_DIRS if folder.exists() for path in folder.rglob("*") if path.is_file()}
    on_disk |= set(compose_files.OUT.glob("*.env"))
    return sorted(on_disk - set(files))


def differences(files: dict[Path, str] | None = None) -> list[str]:
    """Rendered files that are missing or differ on disk, and files in rendered folders nothing renders."""
    files = rendered() if files is None else files
    found = [
        str(path.relative_to(ROOT)) for path, text in files.items() if not path.exists() or path.read_text() != text
    ]
    return found + [f"{path.relative_to(ROOT)} (nothing renders it)" for path in _stale(files)]


def write() -> list[str]:
    """Bring deploy/ in line with the sources; answer what changed."""
    files = rendered()
    changed: list[str] = []
    for path in _stale(files):
        path.unlink()
        changed.append(f"removed {path.relative_to(ROOT)}")
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(f"wrote {path.relative_to(ROOT)}")
    return changed
