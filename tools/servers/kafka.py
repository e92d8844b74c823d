"""Kafka 4.4.0 in KRaft mode (one node: broker and controller) from Maven Central's jars, on the machine's Java.

The jars are resolved once with Maven into .dapr/kafka/lib (a throwaway pom written here); the storage
is formatted once per data folder. The base port is the broker's listener, the next one the controller's.
It is ready when every topic of components/kafka/pubsub.yaml (created at start) has a leader.

Durability: `log.flush.interval.messages=1` fsyncs every append before the produce answer (Dapr
publishes with acks=all; with one broker that is the leader alone), so an acknowledged event survives a
SIGKILL (the page cache would keep it anyway) and a power loss too. KRaft's metadata log is fsynced by
its Raft layer; committed consumer offsets live in __consumer_offsets, fsynced the same way.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import uuid
from pathlib import Path

import yaml

from tools.servers.processes import ROOT, apt_install

VERSION = "4.4.0"
LOG4J = "2.25.5"
"""The log4j2 that kafka_2.13 4.4.0 depends on; its SLF4J 1.x binding makes the broker log at all."""
LIB = ROOT / ".dapr" / "kafka" / f"lib-{VERSION}"
PARTITIONS = 4
"""Per topic. A subscriber handles one partition's messages in order, one at a time, so an event held in
its retry span (up to 54.6 s, resiliency.yaml) holds back only the events behind it in that partition.
16 was tried: 64 deliveries at once into payments (SQLite) made it slower, not faster, under chaos."""
START_TIMEOUT_SECONDS = 90.0
HEAP = ("-Xms256m", "-Xmx512m")
POM = f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>junction.tools</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>{VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>{LOG4J}</version>
    </dependency>
  </dependencies>
</project>
"""
LOG4J2_PROPERTIES = """status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = out
logger.state.name = state.change.logger
logger.state.level = WARN
"""


def ensure_jars() -> Path:
    """The broker's classpath folder, resolved from Maven Central the first time (about 15-40 s)."""
    if (LIB / ".complete").exists():
        return LIB
    mvn = apt_install("maven", "mvn")
    work = LIB.parent / f"resolve-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "pom.xml").write_text(POM)
    print(f"[servers] resolving Kafka {VERSION} from Maven Central into {LIB} ...", flush=True)
    command = [mvn, "-q", "-B", "dependency:copy-dependencies", "-DoutputDirectory=lib", "-DincludeScope=runtime"]
    subprocess.run(command, cwd=work, check=True)
    (work / "lib" / ".complete").write_text(VERSION)
    if not (LIB / ".complete").exists():  # another `up` may have finished first
        shutil.rmtree(LIB, ignore_errors=True)
        (work / "lib").rename(LIB)
    shutil.rmtree(work, ignore_errors=True)
    return LIB


def platform_topics() -> list[str]:
    """Every topic the platform publishes or subscribes (the protected list of the kafka pub/sub component)."""
    component = yaml.safe_load((ROOT / "components" / "kafka" / "pubsub.yaml").read_text())
    value = next(entry["value"] for entry in component["spec"]["metadata"] if entry["name"] == "protectedTopics")
    return [topic.strip() for topic in str(value).split(",") if topic.strip()]


def server_properties(port: int, data_dir: Path) -> str:
    controller = port + 1
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir / "log"),
        # One broker: every replication factor and min ISR is 1 (acks=all means this broker has it).
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "num.partitions": str(PARTITIONS),
        # fsync each append before answering the producer (see the module docstring).
        "log.flush.interval.messages": "1",
        # A leader that is not in sync never takes over (moot with one broker, stated for a reader).
        "unclean.leader.election.enable": "false",
        # After a crash the restarted node's controller waits for the dead incarnation's broker session
        # to lapse before it lets the new one register: 4 s instead of 9 s of extra downtime.
        "broker.session.timeout.ms": "4000",
        "broker.heartbeat.interval.ms": "500",
        # A consumer group's first member gets its partitions at once, not after 3 s.
        "group.initial.rebalance.delay.ms": "0",
        # Events stay a week whether or not they were consumed, so a consumer group that joins late
        # (initialOffset: oldest) still reads everything published before it.
        "log.retention.hours": "168",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


# ---- a few Kafka protocol requests, enough to tell readiness and create topics -----------------
_API_VERSIONS, _METADATA, _CREATE_TOPICS = 18, 3, 19
_UNKNOWN_TOPIC = 3


def _string(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">h", len(data)) + data


def _request(conn: socket.socket, api_key: int, version: int, body: bytes) -> bytes:
    header = struct.pack(">hhi", api_key, version, 1) + _string("junction-tools")
    conn.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
    size = struct.unpack(">i", _read(conn, 4))[0]
    return _read(conn, size)[4:]  # drop the correlation id


def _read(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise ConnectionError("kafka closed the connection")
        data += chunk
    return data


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return int(value)

    def string(self) -> str:
        size = self.take(">h")
        if size < 0:
            return ""
        self.at += size
        return self.data[self.at - size : self.at].decode()

    def skip_int32s(self) -> None:
        count = self.take(">i")
        self.at += 4 * max(count, 0)


def _connect(port: int) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn.settimeout(5)
    return conn


def kafka_answers(port: int) -> bool:
    """Whether a Kafka broker answers an ApiVersions request on 127.0.0.1:port."""
    try:
        with _connect(port) as conn:
            return _Reader(_request(conn, _API_VERSIONS, 0, b"")).take(">h") == 0
    except (OSError, struct.error, ConnectionError):
        return False


def topics_led(port: int, topics: list[str]) -> dict[str, bool | None]:
    """Metadata v7 for `topics` (never auto-creating one): topic -> whether every partition has a leader
    (None: no such topic)."""
    body = struct.pack(">i", len(topics)) + b"".join(_string(t) for t in topics) + b"\x00"
    with _connect(port) as conn:
        reader = _Reader(_request(conn, _METADATA, 7, body))
    reader.take(">i")  # throttle
    for _ in range(reader.take(">i")):  # brokers: id, host, port, rack
        reader.take(">i")
        reader.string()
        reader.take(">i")
        reader.string()
    reader.string()  # cluster id
    reader.take(">i")  # controller id
    led: dict[str, bool | None] = {}
    for _ in range(reader.take(">i")):
        error, name, _internal = reader.take(">h"), reader.string(), reader.take(">b")
        ok = error == 0
        partitions = reader.take(">i")
        ok = ok and partitions > 0
        for _ in range(partitions):
            part_error, _index, leader = reader.take(">h"), reader.take(">i"), reader.take(">i")
            reader.take(">i")  # leader epoch
            for _ in range(3):  # replicas, ISR, offline replicas
                reader.skip_int32s()
            ok = ok and part_error == 0 and leader >= 0
        led[name] = None if error == _UNKNOWN_TOPIC else ok
    return led


def create_topics(port: int, topics: list[str]) -> None:
    """CreateTopics v4 with the broker's defaults (partitions, replication); an existing topic is left alone."""
    entries = b"".join(
        _string(t) + struct.pack(">ihii", PARTITIONS, 1, 0, 0)  # partitions, replication, no assignments/configs
        for t in topics
    )
    with _connect(port) as conn:
        _request(conn, _CREATE_TOPICS, 4, struct.pack(">i", len(topics)) + entries + struct.pack(">ib", 10_000, 0))


# ---- the server ---------------------------------------------------------------------------
def _format_once(java: str, lib: Path, data_dir: Path, config: Path) -> None:
    if (data_dir / "log" / "meta.properties").exists():
        return
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    # One value with its option: an id may start with "-" (1 in 64), which the tool would take for an option.
    command = [java, "-cp", f"{lib}/*", "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}"]
    command += ["-c", str(config)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def start_kafka(port: int, data_dir: Path, log_file: Path) -> subprocess.Popen[bytes]:
    """Start the broker in its own process group; return once every platform topic exists and has a leader."""
    java = apt_install("openjdk-17-jre-headless", "java")
    lib = ensure_jars()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    config = data_dir / "server.properties"
    config.write_text(server_properties(port, data_dir))
    (data_dir / "log4j2.properties").write_text(LOG4J2_PROPERTIES)
    _format_once(java, lib, data_dir, config)
    command = [
        java,
        *HEAP,
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={data_dir / 'log4j2.properties'}",
        "-cp",
        f"{lib}/*",
        "kafka.Kafka",
        str(config),
    ]
    with log_file.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    topics = platform_topics()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise SystemExit(f"kafka did not start on 127.0.0.1:{port}; see {log_file}")
        try:
            if kafka_answers(port):
                led = topics_led(port, topics)
                if all(led.get(topic) for topic in topics):
                    return process
                missing = [topic for topic in topics if led.get(topic, None) is None]
                if missing:
                    create_topics(port, missing)
        except (OSError, struct.error, ConnectionError):
            pass
        time.sleep(0.2)
