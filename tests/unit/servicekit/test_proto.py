"""The committed gRPC code (libs/junction/) is what `make proto` makes of proto/ today."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
GENERATED = ROOT / "libs" / "junction" / "identity" / "v1"


def test_the_generated_code_matches_the_proto(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I", str(ROOT / "proto"), f"--python_out={tmp_path}",
         f"--grpc_python_out={tmp_path}", f"--mypy_out={tmp_path}", f"--mypy_grpc_out={tmp_path}",
         str(ROOT / "proto" / "junction" / "identity" / "v1" / "users.proto")],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    made = tmp_path / "junction" / "identity" / "v1"
    names = sorted(path.name for path in made.iterdir())
    assert names == ["users_pb2.py", "users_pb2.pyi", "users_pb2_grpc.py", "users_pb2_grpc.pyi"]
    for name in names:
        assert (made / name).read_text() == (GENERATED / name).read_text(), f"run `make proto`: {name} is stale"
