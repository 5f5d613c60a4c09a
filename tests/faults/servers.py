"""Services of a test's own, so a test can stop and restart them without touching anyone
else's: a Redis server, a PostgreSQL cluster, and gunicorn serving the portal.

The Redis and PostgreSQL binaries are the ones the machine runs its services with; each
instance listens on a free port of 127.0.0.1 and keeps its files in the test's tmp_path.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.workers import ROOT, STOP_TIMEOUT, end_process

START_TIMEOUT = 30.0
PG_BIN = Path("/usr/lib/postgresql")
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(ready: Any, what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} after {timeout:.0f}s")
        time.sleep(0.1)


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class PrivateRedis:
    """A redis-server that keeps nothing on disk, like the one this machine runs."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed")
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.folder)]
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: _answers(self.port), f"redis-server did not listen on {self.port}")

    def stop(self) -> None:
        """SIGKILL: whatever it held in memory (queued messages, cache) is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)
        self.process = None


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb, trust auth), run as the postgres user.

    Its folder is a temporary directory of its own: pytest's tmp_path is private to root,
    where the postgres user could not reach it.
    """

    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="handoff-pg-")))
    port: int = field(default_factory=free_port)

    @property
    def bin(self) -> Path:
        versions = sorted(PG_BIN.glob("*/bin/pg_ctl"))
        if not versions:
            pytest.fail(f"no PostgreSQL server binaries under {PG_BIN}")
        return versions[-1].parent

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _as_postgres(self, *command: str) -> None:
        # initdb and postgres refuse to run as root.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(prefix + list(command), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr}")

    def create(self) -> None:
        data = self.folder / "data"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "postgres.log")
        data = str(self.folder / "data")
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", data, "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as when the server goes away."""
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"
        )

    def create_database(self, name: str) -> None:
        command = ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        subprocess.run([*command, "-qc", f"CREATE DATABASE {name}"], check=True, timeout=60)

    def remove(self) -> None:
        """Stop the server if it runs, and delete its files."""
        if (self.folder / "data" / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Gunicorn:
    """The portal served by gunicorn with the fault tests' settings and the environment given."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, workers: int = 2, threads: int = 4) -> None:
        command = [GUNICORN, "portal.wsgi:application"]
        command += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)]
        command += ["--threads", str(threads), "--timeout", "60"]
        environ = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.faults.process_settings",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=environ, stdout=self.log.open("ab"), stderr=subprocess.STDOUT
        )
        wait_until(self._healthy, f"gunicorn did not answer /healthz:\n{self.output()}")

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.output()}")
        try:
            return self.request("GET", "/healthz")[0] == 200
        except OSError:
            return False

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        """Status, headers and the JSON (or text) body; an HTTP error is an answer too."""
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Content-Type": "application/json", **(headers or {})}
        request = urllib.request.Request(self.base + path, data=data, headers=sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), _decoded(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), _decoded(error.read())

    def stop(self) -> None:
        if self.process is not None:
            end_process(self.process)


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
