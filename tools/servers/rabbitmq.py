"""RabbitMQ 3.10 from Debian's packages on 127.0.0.1, its queues declared before anything publishes.

Six consecutive ports from the base: AMQP, Erlang distribution, epmd, and three for rabbitmqctl's
own distribution. epmd runs in the broker's process group in the foreground (it would otherwise
daemonize and outlive the broker), so stopping or killing the group stops both.

RabbitMQ drops a message published to an exchange that has no queue bound (Dapr publishes with
mandatory=false), so at every start the queue and binding of each (app, topic) pair in the
subscriptionScopes of every pubsub.rabbitmq component that names this server are declared, with
the same names and arguments Dapr's component (components-contrib pubsub/rabbitmq) declares them:
a durable fanout exchange named after the topic, a durable classic queue `<consumerID>-<topic>`
whose dead-letter exchange is `dlx-<queue>`, bound to a lazy durable queue `dlq-<queue>`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pika  # type: ignore[import-untyped]
import yaml

from tools.servers.processes import ROOT, apt_install, port_open, wait_started

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
CTL = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")
PORTS = 6
LOOPBACK_DIST = "-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false"
CONFIG = """\
listeners.tcp.default = 127.0.0.1:{port}
loopback_users.guest = true
disk_free_limit.absolute = 50MB
# A delivery unacknowledged this long closes its channel and goes back to its queue. Longer than a
# delivery's whole retry span inside the sidecar (54.6 s, components/common/resiliency.yaml), so a
# retried event is never taken away; short enough that deliveries parked on a consumer Dapr's
# component lost track of after a broker restart (components-contrib issue 4540) come back.
consumer_timeout = 75000
log.console = true
log.console.level = info
log.file = false
"""


def node_name(port: int) -> str:
    return f"junction-{port}@localhost"


def environment(port: int, data_dir: Path) -> dict[str, str]:
    """Every setting RabbitMQ and rabbitmqctl read, so nothing binds beyond loopback or the base's ports."""
    return {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(data_dir),  # the Erlang cookie lives here, shared by the broker and rabbitmqctl
        "RABBITMQ_NODENAME": node_name(port),
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(port + 1),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "ERL_EPMD_PORT": str(port + 2),
        "RABBITMQ_CTL_DIST_PORT_MIN": str(port + 3),
        "RABBITMQ_CTL_DIST_PORT_MAX": str(port + PORTS - 1),
        "RABBITMQ_MNESIA_BASE": str(data_dir / "mnesia"),
        "RABBITMQ_LOG_BASE": str(data_dir / "log"),
        "RABBITMQ_CONFIG_FILE": str(data_dir / "rabbitmq.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(data_dir / "enabled_plugins"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": LOOPBACK_DIST,
        "RABBITMQ_CTL_ERL_ARGS": LOOPBACK_DIST,
    }


def rabbitmq_answers(port: int) -> bool:
    """An AMQP 0-9-1 server answers the protocol header with its Connection.Start method."""
    if not port_open(port):
        return False
    try:
        connection = pika.BlockingConnection(_parameters(port, attempts=1))
    except pika.exceptions.AMQPError:
        return False
    connection.close()
    return True


def _parameters(port: int, *, attempts: int = 3) -> pika.ConnectionParameters:
    return pika.ConnectionParameters(
        host="127.0.0.1",
        port=port,
        credentials=pika.PlainCredentials("guest", "guest"),
        connection_attempts=attempts,
        retry_delay=0.5,
        socket_timeout=5,
    )


def subscriptions(port: int, data_dir: Path) -> set[tuple[str, str]]:
    """(consumer id, topic) for every subscription scope of the pubsub.rabbitmq components naming this port.

    A test run's rendered components (beside its data folder, with its test apps added) come first;
    otherwise the project's own components/ folders.
    """
    rendered = sorted((data_dir.parent / "components").glob("*/pubsub.yaml"))
    found: set[tuple[str, str]] = set()
    for path in rendered or sorted((ROOT / "components").glob("*/pubsub.yaml")):
        component = yaml.safe_load(path.read_text())
        spec = component.get("spec") or {}
        metadata = {entry["name"]: str(entry.get("value", "")) for entry in spec.get("metadata") or []}
        if spec.get("type") != "pubsub.rabbitmq" or f"127.0.0.1:{port}" not in metadata.get("connectionString", ""):
            continue
        consumer = metadata.get("consumerID", "{appID}")
        for scope in metadata.get("subscriptionScopes", "").replace(" ", "").split(";"):
            app_id, _, topics = scope.partition("=")
            found |= {(consumer.replace("{appID}", app_id), topic) for topic in topics.split(",") if topic}
    return found


def declare_queues(port: int, pairs: set[tuple[str, str]]) -> None:
    """Declare each subscriber's exchange, queue, binding and dead-letter route as Dapr will (idempotent)."""
    connection = pika.BlockingConnection(_parameters(port))
    try:
        channel = connection.channel()
        for consumer, topic in sorted(pairs):
            queue = f"{consumer}-{topic}"
            channel.exchange_declare(topic, "fanout", durable=True, auto_delete=False)
            channel.exchange_declare(f"dlx-{queue}", "fanout", durable=True, auto_delete=False)
            channel.queue_declare(f"dlq-{queue}", durable=True, arguments={"x-queue-mode": "lazy"})
            channel.queue_bind(f"dlq-{queue}", f"dlx-{queue}", routing_key="")
            arguments = {"x-dead-letter-exchange": f"dlx-{queue}", "x-queue-type": "classic"}
            channel.queue_declare(queue, durable=True, arguments=arguments)
            channel.queue_bind(queue, topic, routing_key="")
    finally:
        connection.close()


def start_rabbitmq(port: int, data_dir: Path, log_file: Path) -> subprocess.Popen[bytes]:
    """Start epmd and RabbitMQ in one new process group; return once the broker runs and the queues exist."""
    apt_install("rabbitmq-server", "rabbitmqctl")
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    (data_dir / "rabbitmq.conf").write_text(CONFIG.format(port=port))
    (data_dir / "enabled_plugins").write_text("[].\n")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = environment(port, data_dir)
    # epmd first and in the foreground (-start_epmd false keeps erl from spawning a daemon of its own);
    # then the server script, which on SIGTERM stops beam gracefully and exits only after it.
    script = (
        f"epmd -address 127.0.0.1 -port {port + 2} & "
        f"for _ in $(seq 100); do epmd -port {port + 2} -names >/dev/null 2>&1 && break; sleep 0.05; done; "
        f'exec "{SERVER}"'
    )
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            ["sh", "-c", script], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    # Ready once it completes an AMQP handshake: the node opens its listener only after every boot
    # step ran. (rabbitmqctl await_startup says the same, but each call boots an Erlang VM of its own.)
    failure = f"rabbitmq did not start on 127.0.0.1:{port}"
    wait_started(process, lambda: rabbitmq_answers(port), failure=failure, log_file=log_file, timeout_seconds=90)
    declare_queues(port, subscriptions(port, data_dir))
    return process
