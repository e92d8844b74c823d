"""Boot the real stack for end-to-end tests and benchmarks: redis, every app of dapr.yaml beside a real daprd."""

from tools.stack.stack import AppProcess, Stack

__all__ = ["AppProcess", "Stack"]
