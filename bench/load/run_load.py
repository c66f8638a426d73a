#!/usr/bin/env python3
"""MoodLens load benchmark: a real stack on loopback, locust headless, then checks and a report.

Sets up, on 127.0.0.1 only: a fresh PostgreSQL database (created and dropped here), migrations
(`flask db upgrade`), seeded accounts (bench/load/seed.py, through the real services), Redis
(a dedicated db number on the local server, emptied before and after), gunicorn (gthread,
2 workers x 8 threads) and 2 `flask worker` processes. Then locust runs headless for a bounded
time: 45 patients + 5 doctors browsing and chatting, plus 20 simultaneous photo screenings.

Checks afterwards: 0 failed requests and 0 5xx (locust's stats and gunicorn's access log), and
0 lost or stuck jobs (every screening `done`, each analysed once). Writes the `## Load` section
of docs/benchmarks.md (only that section). Every process started here is stopped in `finally`
(each in its own process group), and the database is dropped, even when a step fails.

    .venv/bin/python bench/load/run_load.py [--run-time 90s] [--no-report]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"  # loopback only, always
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
UNFINISHED = ("pending", "queued", "running")


def log(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float, processes: list) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))  # nearest rank
    return ordered[index]


class Stack:
    """Processes and resources of one run; `close()` releases all of them."""

    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="moodlens-load-"))
        self.db_name = f"moodlens_load_{os.getpid()}_{secrets.token_hex(3)}"
        self.admin_url = f"postgresql://postgres@{HOST}:{args.pg_port}/postgres"
        self.database_url = f"postgresql+psycopg://postgres@{HOST}:{args.pg_port}/{self.db_name}"
        self.redis_url = f"redis://{HOST}:{args.redis_port}/{args.redis_db}"
        self.port = free_port()
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.logs: list = []
        self.db_created = False
        self.redis_used = False
        self.secret = secrets.token_hex(32)
        self.media_key = secrets.token_hex(32)  # a fresh media encryption key per run
        self.audit_key = secrets.token_hex(32)  # and audit-chain key (both required in production)

    # --- environment ---------------------------------------------------------------------
    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL", "FLASK_DEBUG"}}
        env.update(
            FLASK_APP="wsgi",
            MOODLENS_ENV="production",
            SESSION_COOKIE_SECURE="0",  # plain HTTP on loopback; production keeps it on
            SECRET_KEY=self.secret,
            MEDIA_ENCRYPTION_KEY=self.media_key,
            AUDIT_HMAC_KEY=self.audit_key,
            MOODLENS_INSTANCE_PATH=str(self.tmp / "instance"),
            MAIL_DIR=str(self.tmp / "mail"),
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            RQ_QUEUE="moodlens-load",
            # Every simulated user comes from 127.0.0.1: the per-IP login limit (meant for real
            # clients, each with their own address) would refuse the 70 logins of the ramp-up.
            LOGIN_RATE_LIMIT_PER_IP="10000 per minute",
            PYTHONUNBUFFERED="1",
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        return env

    def run(self, name: str, command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
        log(f"{name}: {' '.join(command[:6])}")
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            start_new_session=True,
            **kwargs,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{name} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done

    def start(self, name: str, command: list[str], extra_env: dict | None = None) -> subprocess.Popen:
        handle = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed in close()
        self.logs.append(handle)
        env = self.env() | (extra_env or {})
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append((name, process))
        log(f"started {name} (pid {process.pid})")
        return process

    # --- setup -----------------------------------------------------------------------------
    def prepare_services(self) -> None:
        client = redis.Redis.from_url(self.redis_url)
        client.ping()
        if client.dbsize() and not self.args.flush_redis:
            raise RuntimeError(
                f"Redis db {self.args.redis_db} is not empty (another run?); "
                "pick --redis-db or pass --flush-redis"
            )
        self.redis_used = True
        client.flushdb()
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        self.db_created = True
        log(f"database {self.db_name}, redis {self.redis_url}, instance {self.tmp}")

    def setup(self) -> dict:
        self.prepare_services()
        self.run("migrations", [str(BIN / "flask"), "db", "upgrade"], timeout=180)
        seed_file = self.tmp / "seed.json"
        self.run(
            "seed",
            [
                sys.executable,
                str(ROOT / "bench/load/seed.py"),
                str(seed_file),
                str(self.args.patients),
                str(self.args.doctors),
                str(self.args.screenings),
            ],
            timeout=600,
        )
        for number in (1, 2):
            self.start(f"worker{number}", [str(BIN / "flask"), "worker", "--name", f"load-worker-{number}"])
        self.start(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "--worker-class",
                "gthread",
                "--workers",
                "2",
                "--threads",
                "8",
                "--keep-alive",
                "5",
                "--bind",
                f"{HOST}:{self.port}",
                "--timeout",
                "120",
                "--access-logfile",
                str(self.tmp / "access.log"),
                "--access-logformat",
                "%(s)s %(m)s %(U)s %(M)s",
                "wsgi:app",
            ],
        )
        wait_for_http(f"http://{HOST}:{self.port}/auth/login", 120, self.processes)
        self.wait_for_workers(180)
        return json.loads(seed_file.read_text())

    def wait_for_workers(self, timeout: float) -> None:
        """Both workers registered (they preload the face models first)."""
        from rq import Worker

        connection = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + timeout
        while len(Worker.all(connection=connection)) < 2:
            for name, process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("the two flask workers did not register in time")
            time.sleep(0.5)
        log("both flask workers are ready")

    # --- the run ----------------------------------------------------------------------------
    def locust(self) -> Path:
        users = self.args.patients + self.args.doctors + self.args.screenings
        prefix = self.tmp / "locust"
        env = {
            "MOODLENS_LOAD_SEED": str(self.tmp / "seed.json"),
            "MOODLENS_LOAD_PATIENTS": str(self.args.patients),
            "MOODLENS_LOAD_DOCTORS": str(self.args.doctors),
            "MOODLENS_LOAD_SCREENERS": str(self.args.screenings),
            "MOODLENS_LOAD_CLIENT_OUT": str(self.tmp / "client_turnaround.json"),
        }
        process = self.start(
            "locust",
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "bench/load/locustfile.py"),
                "--headless",
                "--host",
                f"http://{HOST}:{self.port}",
                "-u",
                str(users),
                "-r",
                str(users),
                "--run-time",
                self.args.run_time,
                "--stop-timeout",
                "15",
                "--csv",
                str(prefix),
                "--only-summary",
                "--exit-code-on-error",
                "0",
            ],
            extra_env=env,
        )
        seconds = int(re.sub(r"\D", "", self.args.run_time) or 90) * (
            60 if self.args.run_time.endswith("m") else 1
        )
        try:
            process.wait(timeout=seconds + 120)
        except subprocess.TimeoutExpired as error:
            raise RuntimeError("locust did not stop by itself") from error
        if process.returncode != 0:
            raise RuntimeError(f"locust exited with {process.returncode}")
        return prefix

    def wait_for_screenings(self, timeout: float) -> list[tuple]:
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.database_url.replace("+psycopg", ""), autocommit=True) as conn:
            while True:
                rows = conn.execute(
                    "SELECT id, status, attempts, created_at, finished_at, rq_job_id"
                    " FROM screenings ORDER BY id"
                ).fetchall()
                if not any(row[1].lower() in UNFINISHED for row in rows) or time.monotonic() > deadline:
                    return rows
                time.sleep(1)

    def analysed_events(self) -> list[str]:
        with psycopg.connect(self.database_url.replace("+psycopg", ""), autocommit=True) as conn:
            return [
                row[0]
                for row in conn.execute(
                    "SELECT target FROM audit_events WHERE action = 'screening.analysed'"
                ).fetchall()
            ]

    def worker_split(self, rows) -> dict[str, int]:
        from rq.job import Job

        connection = redis.Redis.from_url(self.redis_url)
        split: dict[str, int] = {}
        for row in rows:
            try:
                results = Job.fetch(row[5], connection=connection).results()
            except Exception:  # noqa: BLE001 - reported as unknown
                results = []
            for result in results:
                split[result.worker_name] = split.get(result.worker_name, 0) + 1
        return split

    # --- teardown ----------------------------------------------------------------------------
    def close(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for name, process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                log(f"{name} ignored SIGTERM: SIGKILL")
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=10)
            # anything the process group left behind (gunicorn's workers, ...)
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for handle in self.logs:
            handle.close()
        if self.redis_used:
            try:
                redis.Redis.from_url(self.redis_url).flushdb()
            except redis.RedisError as error:
                log(f"could not empty Redis db: {error}")
        if self.db_created:
            try:
                with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            except psycopg.Error as error:
                log(f"could not drop {self.db_name}: {error}")
        if self.args.keep_logs:
            log(f"logs kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


# --- analysis and report -------------------------------------------------------------------


def read_stats(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def read_failures(prefix: Path) -> list[dict]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def server_errors(access_log: Path) -> list[str]:
    return [line for line in access_log.read_text().splitlines() if line[:1] == "5"]


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def render_section(info: dict) -> str:
    m = info["machine"]
    t = info["turnaround"]
    lines = [
        "## Load",
        "",
        f"`make bench-load` (`bench/load/run_load.py`, locust {info['locust']}), run {info['date']}: "
        f"gunicorn gthread (2 workers x 8 threads) + 2 `flask worker` + PostgreSQL + Redis, all on "
        f"127.0.0.1, on the same machine as locust itself. {info['browsers']} users browsing and chatting "
        f"({info['patients']} patients, {info['doctors']} doctors with TOTP, wait 1-3 s between requests) "
        f"plus {info['screenings']} simultaneous photo screenings (astronaut JPEG + PHQ-9 through "
        f"`/screenings/new`, then polling the status fragment every second), for {info['run_time']} "
        "in all. All users are spawned at once and log in through the real forms first (a login "
        "storm: Argon2id hashing of every password at the same moment, its own rows below); the "
        "browsing and the uploads then start together. gunicorn runs with `--keep-alive 5`, longer "
        "than the users' think time, so an idle connection is never closed just as the client reuses it.",
        "",
        f"Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}; load average before "
        f"{info['load_before']}, after {info['load_after']} (1, 5, 15 min; it counts anything else "
        "running on the machine too).",
        "",
        f"**Result: {info['verdict']}** — {info['requests']} requests, {info['failures']} failed, "
        f"{info['server_errors']} 5xx in gunicorn's access log; {t['count']} screenings, "
        f"{t['done']} `done`, {t['unfinished']} lost or stuck, {t['duplicates']} analysed twice "
        f"(worker split: {info['split']}).",
        "",
        "| Page | Requests | Failures | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in info["pages"]:
        lines.append(
            f"| {row['name']} | {row['count']} | {row['failures']} | {row['p50']} | {row['p95']} | "
            f"{row['p99']} | {row['max']} |"
        )
    lines += [
        "",
        f"Screening turnaround (created_at → finished_at in the database, {t['count']} photos submitted "
        f"together): p50 {t['p50']:.1f} s, p95 {t['p95']:.1f} s, max {t['max']:.1f} s. As the "
        f"patients saw it (upload sent → status fragment finished, polled every second, "
        f"{t['client_count']} screenings): p50 {t['client_p50']:.1f} s, max {t['client_max']:.1f} s. "
        "Two workers on two shared cores analyse one photo each at a time, so the last of a burst "
        "of 20 waits for the ones before it; add workers (docs/deployment.md, Scaling out) to shorten it.",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str) -> None:
    """Replace (or append) only the `## Load` section; the rest of the file is left as it is."""
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Load\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    BENCHMARKS.write_text(text.rstrip("\n") + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run-time", default="90s")
    parser.add_argument("--patients", type=int, default=45)
    parser.add_argument("--doctors", type=int, default=5)
    parser.add_argument("--screenings", type=int, default=20)
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument("--flush-redis", action="store_true", help="empty the Redis db even if it holds keys")
    parser.add_argument(
        "--grace", type=float, default=120, help="seconds to wait for screenings after locust"
    )
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    stack = Stack(args)
    try:
        stack.setup()
        log(
            f"locust: {args.patients + args.doctors} browsing + {args.screenings} screening users,"
            f" {args.run_time}"
        )
        prefix = stack.locust()
        rows = stack.wait_for_screenings(args.grace)
        events = stack.analysed_events()
        split = stack.worker_split(rows)
        stats = read_stats(prefix)
        failures = read_failures(prefix)
        errors_5xx = server_errors(stack.tmp / "access.log")
        client_file = stack.tmp / "client_turnaround.json"
        client = json.loads(client_file.read_text()) if client_file.exists() else {}
    except BaseException:
        log(f"FAILED; logs in {stack.tmp}")
        args.keep_logs = True
        raise
    finally:
        load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
        stack.close()

    total = next(row for row in stats if row["Name"] == "Aggregated")
    pages = [
        {
            "name": f"{row['Type']} {row['Name']}" if row["Type"] not in {"GET", ""} else row["Name"],
            "count": row["Request Count"],
            "failures": row["Failure Count"],
            "p50": row["50%"],
            "p95": row["95%"],
            "p99": row["99%"],
            "max": round(float(row["Max Response Time"])),
        }
        for row in sorted(stats, key=lambda r: (r["Type"] != "GET", r["Name"]))
        if row["Name"] != "Aggregated"
    ]
    turnaround = [(row[4] - row[3]).total_seconds() for row in rows if row[4] is not None]
    unfinished = [row for row in rows if row[1].lower() in UNFINISHED]
    not_done = [row for row in rows if row[1].lower() != "done"]
    analysed_twice = [row for row in rows if row[2] != 1 or events.count(f"screening:{row[0]}") != 1]
    problems = []
    if int(total["Failure Count"]) or failures:
        problems.append(f"{total['Failure Count']} failed requests: {failures[:5]}")
    if errors_5xx:
        problems.append(f"{len(errors_5xx)} 5xx responses: {errors_5xx[:5]}")
    if len(client) != args.screenings:
        problems.append(f"{len(client)} of {args.screenings} patients saw their screening finish")
    if len(rows) != args.screenings:
        problems.append(f"{len(rows)} screenings in the database, {args.screenings} submitted")
    if not_done:
        problems.append(f"not done: {[(r[0], r[1]) for r in not_done]}")
    if analysed_twice:
        problems.append(f"analysed more than once: {[(r[0], r[2]) for r in analysed_twice]}")
    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "locust": subprocess.run(
            [str(BIN / "locust"), "--version"], capture_output=True, text=True, check=False
        ).stdout.split()[1:2][0]
        if (BIN / "locust").exists()
        else "?",
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_after,
        "browsers": args.patients + args.doctors,
        "patients": args.patients,
        "doctors": args.doctors,
        "screenings": args.screenings,
        "run_time": args.run_time,
        "pages": pages,
        "requests": total["Request Count"],
        "failures": total["Failure Count"],
        "server_errors": len(errors_5xx),
        "split": ", ".join(f"{k}: {v}" for k, v in sorted(split.items())),
        "verdict": "PASS" if not problems else "FAIL",
        "turnaround": {
            "count": len(rows),
            "done": len(rows) - len(not_done),
            "unfinished": len(unfinished),
            "duplicates": len(analysed_twice),
            "p50": statistics.median(turnaround) if turnaround else float("nan"),
            "p95": percentile(turnaround, 95),
            "max": max(turnaround, default=float("nan")),
            # what the patient saw: upload sent -> the status fragment answered "finished"
            "client_count": len(client),
            "client_p50": statistics.median(client.values()) if client else float("nan"),
            "client_max": max(client.values(), default=float("nan")),
        },
    }
    section = render_section(info)
    print(section)
    if not args.no_report:
        write_section(section)
        log(f"wrote the ## Load section of {BENCHMARKS.relative_to(ROOT)}")
    if problems:
        for problem in problems:
            log(f"PROBLEM: {problem}")
        return 1
    log("PASS: 0 errors, 0 lost or stuck jobs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
