"""Servers a bench script starts beside itself: a free port, the portal's environment and
gunicorn command line, a process in a session of its own (its output in a log file, the whole
group stopped at the end), and waiting until it answers."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from measure import say

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment_without(*names: str) -> dict[str, str]:
    """This process's environment but for ``names``."""
    return {key: value for key, value in os.environ.items() if key not in names}


# The portal under gunicorn ----------------------------------------------------------------


def portal_environment(
    url: str, var_dir: str, *, without: tuple[str, ...] = (), **overrides: str
) -> dict[str, str]:
    """This process's environment (but for ``without``) with the portal set up as in
    production against ``url``: DEBUG off, a bench-only secret key, 127.0.0.1 as its host, no
    SSL redirect, its files under ``var_dir``; ``overrides`` last."""
    return {
        **environment_without(*without),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-any-deployment-0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "HANDOFF_VAR_DIR": var_dir,
        "HANDOFF_LOG_LEVEL": "WARNING",
        **overrides,
    }


def gunicorn_command(port: int, workers: int, threads: int, *, sync_if_one: bool) -> list[str]:
    """gunicorn serving the portal on 127.0.0.1:``port``: gthread workers, or with
    ``sync_if_one`` sync workers when ``threads`` is 1."""
    command = [
        *(sys.executable, "-m", "gunicorn", "portal.wsgi"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning"),
    ]
    if threads > 1 or not sync_if_one:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    return command


@contextmanager
def portal_gunicorn(
    port: int,
    workers: int,
    threads: int,
    env: dict[str, str],
    var_dir: str,
    *,
    sync_if_one: bool = False,
    start_seconds: int = 60,
    ignore: tuple[str, ...] = (),
) -> Iterator[int]:
    """gunicorn serving the portal on ``port`` until the block ends, once /healthz answers;
    yields the pid of its master. Its output goes to gunicorn.log in ``var_dir``."""
    # Nothing is collected: WhiteNoise would warn once per worker about the missing folder.
    (Path(var_dir) / "staticfiles").mkdir(exist_ok=True)
    command = gunicorn_command(port, workers, threads, sync_if_one=sync_if_one)
    log = Path(var_dir) / "gunicorn.log"
    with server(command, ROOT, env, log, ignore=ignore) as process:
        wait_until_up(port, "/healthz", process, "gunicorn", start_seconds)
        yield process.pid


# Any server -------------------------------------------------------------------------------


@contextmanager
def server(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    log: Path,
    *,
    ignore: tuple[str, ...] = (),
) -> Iterator[subprocess.Popen[bytes]]:
    """A server in a session of its own, so stopping it stops the workers it forked; its
    output goes to ``log``, whose end is shown if it fails, and whose warnings and errors are
    shown when it stops (but for lines holding one of ``ignore``)."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        except BaseException:
            _show_tail(log)
            raise
        finally:
            _stop(process)
            _show_oddities(log, ignore)


def wait_until_up(
    port: int, path: str, process: subprocess.Popen[bytes], name: str, seconds: int = 60
) -> None:
    """Until ``path`` answers 200; the bench stops if the server exits or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} stopped with exit code {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{name} did not answer {path} within {seconds} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)  # the group we started, led by this process
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        _wait_for_group(process.pid, wait)
        if not _group_alive(process.pid):
            return


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for_group(pgid: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)


def _show_tail(log: Path) -> None:
    lines = log.read_text(errors="replace").splitlines()[-30:]
    if lines:
        say(f"--- last lines of {log.name} ---\n" + "\n".join(lines))


def _show_oddities(log: Path, ignore: tuple[str, ...]) -> None:
    """Warnings and errors the server wrote, but for lines holding one of ``ignore``."""
    marks = ("warning", "error", "traceback", "exception", "critical")
    odd = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if any(mark in line.lower() for mark in marks) and not any(i in line for i in ignore)
    ]
    if odd:
        shown = "\n".join(f"  {line}" for line in list(dict.fromkeys(odd))[:10])
        say(f"{log.name}: {len(odd)} lines of warnings or errors, the first:\n{shown}")
