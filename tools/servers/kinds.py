"""The kinds of server a component profile may need (components/profiles.yaml names them)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools.servers import jaeger, kafka, nats, postgres, rabbitmq, redis
from tools.servers.processes import LOOPBACK


@dataclass(frozen=True)
class ServerKind:
    name: str
    ports: int
    """How many consecutive ports it takes from its base port (a broker port, then e.g. a monitor port)."""
    answers: Callable[[int], bool]
    """Whether a server of this kind already answers on the base port (then `make run` reuses it)."""
    start: Callable[[int, Path, Path], subprocess.Popen[bytes]]
    """(base port, data folder, log file): start it on 127.0.0.1 in its own process group; return once it
    answers and whatever the profile's components expect to exist (streams, queues, databases) does."""
    start_on: Callable[[int, Path, Path, str], subprocess.Popen[bytes]] | None = None
    """The same with the address to listen on last (the multi-host simulation's servers namespace, tools/netns);
    None for a kind that listens on 127.0.0.1 only so far."""

    def launch(self, port: int, data_dir: Path, log_file: Path, host: str = LOOPBACK) -> subprocess.Popen[bytes]:
        """`start` on `host`: refused for a kind that cannot listen anywhere but on 127.0.0.1."""
        if host == LOOPBACK:
            return self.start(port, data_dir, log_file)
        if self.start_on is None:
            raise SystemExit(f"{self.name} listens on 127.0.0.1 only (tools/servers/{self.name}.py takes no address)")
        return self.start_on(port, data_dir, log_file, host)


KINDS: dict[str, ServerKind] = {
    kind.name: kind
    for kind in (
        # redis-server with an append-only file fsynced on every write.
        ServerKind("redis", 1, redis.redis_answers, redis.start_redis, redis.start_redis),
        # nats-server with JetStream on file storage, fsynced on every write, a stream per topic.
        ServerKind("nats", 2, nats.nats_ready, nats.start_nats),
        # A one-node KRaft Kafka: the broker listener on the base port, the controller on the next.
        ServerKind("kafka", 2, kafka.kafka_answers, kafka.start_kafka),
        # PostgreSQL with fsync on every commit; the junction role and the profile's databases exist.
        ServerKind("postgres", 1, postgres.postgres_answers, postgres.start_postgres),
        # RabbitMQ with its subscribers' durable queues declared at start; epmd in its process group.
        ServerKind("rabbitmq", rabbitmq.PORTS, rabbitmq.rabbitmq_answers, rabbitmq.start_rabbitmq),
        # Jaeger, the trace backend: the query service (UI, HTTP API) on the base port, OTLP gRPC and HTTP next.
        ServerKind("jaeger", jaeger.PORTS, jaeger.jaeger_answers, jaeger.start_jaeger, jaeger.start_jaeger),
    )
}
