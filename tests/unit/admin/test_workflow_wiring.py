"""What admin's provisioning workflow needs around it: an actor state store in every profile, and only
admin's sidecar pointed at placement and scheduler (by `make run` and by the test harness alike)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from apps.admin.tenants.service.steps import ACTIVITIES
from apps.admin.tenants.service.workflow import COMPENSATE, COMPENSATE_POLICY, STEPS
from tools.servers import PLACEMENT_PORT
from tools.stack import Stack

ROOT = Path(__file__).resolve().parents[3]
PROFILES = sorted(yaml.safe_load((ROOT / "components" / "profiles.yaml").read_text()))


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_has_one_actor_state_store_scoped_to_admin(profile: str) -> None:
    stores = []
    for path in sorted((ROOT / "components" / profile).glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        metadata = {entry["name"]: entry.get("value") for entry in spec["spec"].get("metadata") or []}
        if metadata.get("actorStateStore") == "true":
            stores.append((spec["metadata"]["name"], spec["spec"]["type"].split(".")[0], spec.get("scopes")))
    assert stores == [("workflowstore", "state", ["admin"])]


def test_only_admin_hosts_workflows_in_the_run_file() -> None:
    apps = yaml.safe_load((ROOT / "dapr.yaml").read_text())["apps"]
    hosts = {app["appID"]: app["placementHostAddress"] for app in apps if "placementHostAddress" in app}
    assert hosts == {"admin": f"127.0.0.1:{PLACEMENT_PORT}"}  # the placement tools/servers starts


def test_the_harness_points_only_admins_sidecar_at_placement_and_scheduler(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    for app_id, app in stack.apps.items():
        command = stack._daprd(app)
        flags = {flag for flag in command if flag in ("--placement-host-address", "--scheduler-host-address")}
        if app_id == "admin":
            placement = command[command.index("--placement-host-address") + 1]
            scheduler = command[command.index("--scheduler-host-address") + 1]
            assert (placement, scheduler) == (
                f"127.0.0.1:{stack.placement_port}",
                f"127.0.0.1:{stack.scheduler_port}",
            )
        else:
            assert flags == set(), app_id


def test_the_workflow_calls_only_registered_activities_and_retries_each() -> None:
    assert [name for name, _, _ in STEPS] + [COMPENSATE] == list(ACTIVITIES)
    for _, _, policy in STEPS:
        assert policy.max_number_of_attempts >= 3
    assert COMPENSATE_POLICY.max_number_of_attempts > max(policy.max_number_of_attempts for _, _, policy in STEPS)
