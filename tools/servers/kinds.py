"""The kinds of server a component profile may need (components/profiles.yaml names them)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Protocol

from tools.servers.kafka import Kafka
from tools.servers.nats import Nats
from tools.servers.postgres import Postgres
from tools.servers.rabbitmq import RabbitMQ
from tools.servers.redis import Redis


class ServerKind(Protocol):
    name: str
    ports: int
    """How many consecutive ports it takes from its base port (a broker port, then e.g. a monitor port)."""

    def answers(self, port: int) -> bool:
        """Whether a server of this kind already answers on `port` (then `make run` reuses it)."""
        ...

    def start(self, port: int, data_dir: Path, log_file: Path) -> subprocess.Popen[bytes]:
        """Start it on 127.0.0.1 in its own process group, with its data in `data_dir`; return once it
        answers and whatever the profile's components expect to exist (streams, queues, databases) does."""
        ...


KINDS: dict[str, ServerKind] = {kind.name: kind for kind in (Redis(), Nats(), Kafka())}
KINDS.update({kind.name: kind for kind in (Postgres(), RabbitMQ())})
