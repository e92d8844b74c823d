"""PostgreSQL 15 from Debian's packages: a cluster of its own under the data folder, on 127.0.0.1 only.

It holds the state store's database (`junction_state`, state.postgresql v2 makes its tables there)
and one database per app of dapr.yaml (`junction_<app-id>`, where identity and orders migrate their
tables at start-up). All are owned by the `junction` role, which may connect over loopback without
a password and has CREATEDB, so admin can `CREATE DATABASE tenant_<subdomain>` per school.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import yaml

from tools.servers.processes import ROOT, apt_install, wait_started

BIN = Path("/usr/lib/postgresql/15/bin")
ROLE = "junction"
STATE_DATABASE = "junction_state"
SYSTEM_USER = "postgres"
"""The server refuses to run as root: the package's system user owns the cluster when we are root."""
# Only the unix socket (in the data folder, reachable by whoever may read it) and the junction role
# over loopback get in; nothing else, no other host.
PG_HBA = f"local all all trust\nhost all {ROLE} 127.0.0.1/32 trust\n"


def app_databases() -> list[str]:
    """The databases every profile setting `DATABASE_URL=…/junction_{app_id}` needs: one per app."""
    apps = yaml.safe_load((ROOT / "dapr.yaml").read_text())["apps"]
    return [STATE_DATABASE, *(f"junction_{app['appID']}" for app in apps)]


def postgres_answers(port: int) -> bool:
    if not (BIN / "pg_isready").exists():
        return False
    probe = [str(BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", ROLE, "-d", STATE_DATABASE]
    return subprocess.run(probe, check=False, capture_output=True).returncode == 0


def _owner() -> tuple[str | None, int | None]:
    """The user and group to run the server's programs as: the package's system user when we are root."""
    if os.geteuid() != 0:
        return None, None
    return SYSTEM_USER, pwd.getpwnam(SYSTEM_USER).pw_gid


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _init_cluster(cluster: Path, log_file: Path) -> None:
    with log_file.open("ab") as log:
        subprocess.run(
            [
                *(str(BIN / "initdb"), "-D", str(cluster), "-U", SYSTEM_USER, "-E", "UTF8", "--locale=C.UTF-8"),
                *("--auth-local=trust", "--auth-host=reject", "--no-instructions"),
            ],
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
            user=_owner()[0],
            group=_owner()[1],
            extra_groups=[] if os.geteuid() == 0 else None,  # drop root's supplementary groups too
        )
    (cluster / "pg_hba.conf").write_text(PG_HBA)


def _bootstrap_sql() -> str:
    """psql input that makes the role and the databases unless they exist (app ids and names are ours)."""
    names = ", ".join(f"'{name}'" for name in app_databases())
    return (
        f"SELECT 'CREATE ROLE {ROLE} LOGIN CREATEDB' WHERE NOT EXISTS "  # noqa: S608 - names from dapr.yaml
        f"(SELECT FROM pg_roles WHERE rolname = '{ROLE}') \\gexec\n"
        f"SELECT format('CREATE DATABASE %I OWNER {ROLE}', name) FROM unnest(ARRAY[{names}]) AS name "
        "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name) \\gexec\n"
    )


def start_postgres(port: int, data_dir: Path, log_file: Path) -> subprocess.Popen[bytes]:
    """Start PostgreSQL on 127.0.0.1:port in its own process group; return once the role and the
    databases exist (a first start makes the cluster under `data_dir/cluster`)."""
    apt_install("postgresql", "pg_ctlcluster")
    if not (BIN / "postgres").exists():
        raise SystemExit(f"{BIN / 'postgres'} is missing: the postgresql package is not PostgreSQL 15")
    data_dir = data_dir.resolve()  # the server changes into its cluster folder: every path is absolute
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    _own(data_dir)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    cluster = data_dir / "cluster"
    if not (cluster / "PG_VERSION").exists():
        shutil.rmtree(cluster, ignore_errors=True)  # a half-made cluster from an interrupted first start
        _init_cluster(cluster, log_file)
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(data_dir),
        # Every commit waits for its WAL to reach the disk: a SIGKILL or power loss loses no
        # acknowledged write (the defaults, spelled out because they are the promise).
        "fsync": "on",
        "synchronous_commit": "on",
        "full_page_writes": "on",
        "max_connections": "200",
        "shared_buffers": "64MB",
    }
    command = [str(BIN / "postgres"), "-D", str(cluster)]
    for name, value in settings.items():
        command += ["-c", f"{name}={value}"]
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=_owner()[0],
            group=_owner()[1],
            extra_groups=[] if os.geteuid() == 0 else None,  # drop root's supplementary groups too
        )
    socket_probe = [str(BIN / "pg_isready"), "-q", "-h", str(data_dir), "-p", str(port), "-U", SYSTEM_USER]
    wait_started(
        process,
        lambda: subprocess.run(socket_probe, check=False, capture_output=True).returncode == 0,
        failure=f"postgres did not start on 127.0.0.1:{port}",
        log_file=log_file,
        timeout_seconds=60,
    )
    psql = [str(BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(data_dir), "-p", str(port)]
    with log_file.open("ab") as log:
        subprocess.run(
            [*psql, "-U", SYSTEM_USER, "-d", "postgres"],
            input=_bootstrap_sql().encode(),
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process
