"""`python -m tools.deploy.broker_init nats|kafka|rabbitmq`: create what a profile's broker must hold first.

tools/servers does this on one machine (JetStream streams, Kafka topics, RabbitMQ queues with their
dead-letter routes: Dapr's components never create them, or create them too late); docker compose runs
the same functions in a one-shot container that shares the broker's network, so 127.0.0.1 is the broker.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tools.deploy.sources import DEPLOYED_PROFILES, profile

WAIT_SECONDS = 120.0


def _wait(answers: Callable[[int], bool], port: int, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not answers(port):
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not answer on 127.0.0.1:{port} within {WAIT_SECONDS:.0f} s")
        time.sleep(1)


def nats(port: int) -> None:
    from tools.servers.nats import ensure_streams, nats_answers

    _wait(nats_answers, port, "nats-server (monitor on the next port)")
    ensure_streams(port)


def kafka(port: int) -> None:
    from tools.servers.kafka import create_topics, kafka_answers, platform_topics, topics_led

    _wait(kafka_answers, port, "kafka")
    topics = platform_topics()
    create_topics(port, topics)
    _wait(lambda p: all(topics_led(p, topics).values()), port, "a leader for every topic")


def rabbitmq(port: int) -> None:
    from tools.servers.rabbitmq import declare_queues, rabbitmq_answers, subscriptions

    _wait(rabbitmq_answers, port, "rabbitmq")
    # No rendered test-run components beside this folder: the project's own components/ name the queues.
    declare_queues(port, subscriptions(port, Path("/nonexistent/broker")))


BROKERS: dict[str, Callable[[int], None]] = {"nats": nats, "kafka": kafka, "rabbitmq": rabbitmq}


def port_of(kind: str) -> int:
    """The server's port as components/profiles.yaml (and so the components) name it."""
    return next(chosen.servers[kind] for chosen in map(profile, DEPLOYED_PROFILES) if kind in chosen.servers)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.deploy.broker_init", description=__doc__.splitlines()[0])
    parser.add_argument("broker", choices=sorted(BROKERS))
    args = parser.parse_args(argv)
    port = port_of(args.broker)
    BROKERS[args.broker](port)
    print(f"[broker_init] {args.broker} on 127.0.0.1:{port} holds what components/ expect", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
