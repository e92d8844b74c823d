"""Boot the real stack for end-to-end tests: redis, every app of dapr.yaml, each beside a real daprd."""

from tests.harness.stack import AppProcess, Stack

__all__ = ["AppProcess", "Stack"]
