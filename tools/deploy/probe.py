"""`python -m tools.deploy.probe http|grpc PORT [--sidecar DAPR_HTTP_PORT]`: is the app on 127.0.0.1 alive?

Apps listen on loopback only, where their sidecar calls them, so a container runtime's or a kubelet's
probe runs this inside the app's container: GET /healthz for an HTTP app, grpc.health.v1 Check for a
gRPC one (both open without the app's token), and with --sidecar also daprd's own /v1.0/healthz (docker
compose: the sidecar shares the app's network and has no shell to probe itself with). Exit 0 when healthy.
"""

from __future__ import annotations

import argparse
import sys
import urllib.request
from collections.abc import Sequence

TIMEOUT_SECONDS = 2.0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 - http on loopback
            return 200 <= int(answer.status) < 300
    except OSError:
        return False


def grpc_serving(port: int) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT_SECONDS)
        except grpc.RpcError:
            return False
    return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)


def healthy(protocol: str, port: int, sidecar_port: int | None = None) -> bool:
    app_ok = grpc_serving(port) if protocol == "grpc" else http_ok(f"http://127.0.0.1:{port}/healthz")
    return app_ok and (sidecar_port is None or http_ok(f"http://127.0.0.1:{sidecar_port}/v1.0/healthz"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.deploy.probe", description=__doc__.splitlines()[0])
    parser.add_argument("protocol", choices=["http", "grpc"])
    parser.add_argument("port", type=int)
    parser.add_argument("--sidecar", type=int, metavar="DAPR_HTTP_PORT")
    args = parser.parse_args(argv)
    return 0 if healthy(args.protocol, args.port, args.sidecar) else 1


if __name__ == "__main__":
    sys.exit(main())
