"""The port check before `make run`: taken ports are named with their holder, ports stay out of the ephemeral range."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import yaml

from tools import preflight

ROOT = Path(__file__).resolve().parents[3]


def run_file(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "dapr.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "apps": [{"appID": "orders", "appPort": port}]}))
    return path


def test_a_free_port_passes(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert preflight.main(["preflight", str(run_file(tmp_path, port))]) == 0


def test_a_taken_port_fails_naming_the_port_its_role_and_its_holder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert preflight.main(["preflight", str(run_file(tmp_path, port))]) == 1
    message = capsys.readouterr().err
    assert f"port {port} (orders appPort) is taken by pid {os.getpid()}" in message


def test_the_shipped_run_file_keeps_every_port_below_the_ephemeral_range() -> None:
    ports = preflight.run_file_ports(ROOT / "dapr.yaml")
    assert ports, "the run file names its ports"
    assert not [port for port in ports if port in preflight.ephemeral_range()]


def test_an_apps_own_metrics_port_is_checked_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        path = tmp_path / "dapr.yaml"
        app = {"appID": "orders", "env": {"METRICS_PORT": str(port)}}
        path.write_text(yaml.safe_dump({"version": 1, "apps": [app]}))
        assert preflight.run_file_ports(path)[port] == "orders METRICS_PORT"
        assert preflight.main(["preflight", str(path)]) == 1
    assert f"port {port} (orders METRICS_PORT) is taken" in capsys.readouterr().err


def test_the_shipped_run_file_gives_every_app_a_metrics_port_of_its_own() -> None:
    spec = yaml.safe_load((ROOT / "dapr.yaml").read_text())
    ports = preflight.run_file_ports(ROOT / "dapr.yaml")
    assert {f"{app['appID']} METRICS_PORT" for app in spec["apps"]} <= set(ports.values())
    named = [key for app in spec["apps"] for key in app if key in preflight.PORT_KEYS]
    named += [key for app in spec["apps"] for key in app.get("env") or {} if key in preflight.PORT_SETTINGS]
    assert len(ports) == len(named), "two roles share a port"
