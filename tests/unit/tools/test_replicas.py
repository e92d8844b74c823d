"""`make run REPLICAS=n` and the harness: which apps get more instances, and the run file's further entries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.servers import load_profile, run_file_for
from tools.servers.replicas import PORT_KEYS, REPLICATED, instance_folder, with_replicas
from tools.stack.stack import ROOT, Stack

RUN_FILE: dict[str, Any] = yaml.safe_load((ROOT / "dapr.yaml").read_text())


def ports(entry: dict[str, Any]) -> list[int]:
    return [int(entry[key]) for key in PORT_KEYS if key in entry] + [int(entry["env"]["METRICS_PORT"])]


def test_further_instances_keep_the_app_id_and_everything_but_their_ports() -> None:
    rendered = with_replicas(RUN_FILE, 3, REPLICATED)
    for app_id in REPLICATED:
        first, *others = [entry for entry in rendered["apps"] if entry["appID"] == app_id]
        assert len(others) == 2
        for instance, entry in enumerate(others, start=2):
            assert entry["command"] == first["command"] and entry["configFilePath"] == first["configFilePath"]
            assert ports(entry) == [port + 10 * (instance - 1) for port in ports(first)]
            assert {k: v for k, v in entry["env"].items() if k != "METRICS_PORT"} == {
                k: v for k, v in first["env"].items() if k != "METRICS_PORT"
            }
            # The CLI names log files by app id and second in the app's folder: each instance has a folder.
            assert entry["appDirPath"] == f"./.dapr/replicas/{app_id}.{instance}"
    others = [entry for entry in rendered["apps"] if entry["appID"] not in REPLICATED]
    assert others == [entry for entry in RUN_FILE["apps"] if entry["appID"] not in REPLICATED]
    assert yaml.safe_load((ROOT / "dapr.yaml").read_text()) == RUN_FILE  # the input is left as it was


@pytest.mark.parametrize("replicas", [2, 4])
def test_no_two_instances_of_the_run_file_share_a_port(replicas: int) -> None:
    taken = [port for entry in with_replicas(RUN_FILE, replicas, REPLICATED)["apps"] for port in ports(entry)]
    assert len(taken) == len(set(taken))
    assert all(port < 32768 for port in taken)  # below the ephemeral range, as every port of dapr.yaml


def test_an_instance_folder_reaches_the_project_files_but_keeps_its_own_logs(tmp_path: Path) -> None:
    root = tmp_path / "project"  # a fresh checkout: no .data/ yet
    (root / "tools").mkdir(parents=True)
    (root / ".dapr" / "logs").mkdir(parents=True)
    folder = instance_folder(root / ".dapr" / "replicas" / "orders.2", root)
    assert (folder / "tools").resolve() == root / "tools"  # the command's relative paths
    assert (folder / ".data").resolve() == root / ".data"  # the components' and settings' .data/ paths
    assert not (folder / ".dapr").exists()  # the CLI makes .dapr/logs/ here, apart from the project's
    assert instance_folder(folder, root) == folder  # a second run keeps the links


def test_one_instance_is_dapr_yaml_itself_and_too_many_are_refused() -> None:
    assert run_file_for(load_profile("local")) == ROOT / "dapr.yaml"
    with pytest.raises(SystemExit):
        run_file_for(load_profile("local"), 5)


def test_the_harness_runs_the_instances_as_one_app_id_on_ports_of_their_own(tmp_path: Path) -> None:
    (tmp_path / "sentry").mkdir()
    (tmp_path / "sentry" / "ca.crt").write_text("a root certificate")  # what the settings below read
    stack = Stack(tmp_path, profile="local", replicas=2, app_env={"orders": {"PAYMENT_TIMEOUT_SECONDS": "30"}})
    assert [app.name for app in stack.instances("orders")] == ["orders", "orders.2"]
    second = stack.apps["orders.2"]
    assert (second.app_id, second.env["PAYMENT_TIMEOUT_SECONDS"]) == ("orders", "30")
    assert second.app_port != stack.apps["orders"].app_port
    assert stack.setting("orders.2", "DATABASE_URL") == stack.setting("orders", "DATABASE_URL")
    assert stack.app_ids.count("orders") == 1 and "identity.2" not in stack.apps
    alone = Stack(tmp_path, profile="local")
    assert list(alone.apps) == alone.app_ids  # one instance each, keyed by app id, as before
