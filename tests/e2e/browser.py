"""What browser tests do: start MoodLens as `make run` does, log in through the real forms, fill in
the screening, and check every screenshot with axe-core. The fixtures built on these live in
tests/e2e/conftest.py."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy as email_policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import requests
import zxingcpp
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app, embedded_redis
from config import DevelopmentConfig, normalise_database_url
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_database(tmp: Path):
    """(url, cleanup) — a private PostgreSQL database when testing on PostgreSQL, else SQLite."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp / 'e2e.db'}", lambda: None
    base = normalise_database_url(base)
    name = f"moodlens_e2e_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


@dataclass
class LiveServer:
    url: str
    env: dict
    config: type
    processes: list = field(default_factory=list)

    def app(self):
        """An in-process app on the same database and Redis, for arranging data."""
        return create_app(self.config)

    def create_user(self, role: str = "patient", **kwargs):
        app = self.app()
        with app.app_context():
            user = getattr(factories, role)(**kwargs)
            return {"id": user.id, "email": user.email, "password": factories.PASSWORD,
                    "totp_secret": user.totp_secret}

    def mail_link(self, address: str, path_part: str, timeout: float = 120) -> str:
        """The link containing `path_part` in the newest e-mail the worker wrote (as .eml, no SMTP
        server is set) to `address`; waits for the worker (which loads its models first) to send it."""
        folder = Path(self.env["MOODLENS_INSTANCE_PATH"]) / "mail"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            paths = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
            for path in reversed(paths):
                message = BytesParser(policy=email_policy.default).parsebytes(path.read_bytes())
                links = [link for link in re.findall(r"https?://\S+", message.get_content())
                         if path_part in link]
                if message["To"] == address and links:
                    return links[0]
            time.sleep(0.2)
        raise AssertionError(f"no e-mail with a {path_part} link reached {address} within {timeout}s")

    def flask(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, input=input, timeout=120, check=False)


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@contextmanager
def running_server(tmp: Path, worker_name: str, **settings: str):
    """MoodLens as `make run` starts it (migrations, a worker, gunicorn gthread), with extra
    environment `settings`; everything is stopped and dropped on exit."""
    instance = tmp / "instance"
    database_url, drop_database = session_database(tmp)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "FLASK_APP"}}
    env.update({
        "MOODLENS_ENV": "development",
        "MOODLENS_INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-" + uuid.uuid4().hex,
        "LOGIN_RATE_LIMIT_PER_IP": "1000 per minute",
        "LOGIN_FAILURES_PER_ACCOUNT": "100",
        "ACCOUNT_EMAIL_RATE_LIMIT": "1000 per hour",
        "MAIL_LINK_BASE_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
        **settings,
    })
    overrides = {"INSTANCE_PATH": instance, "SQLALCHEMY_DATABASE_URI": database_url,
                 "SECRET_KEY": env["SECRET_KEY"], "REDIS_URL": None}
    if "ML_MODELS_DIR" in settings:
        overrides["ML_MODELS_DIR"] = Path(settings["ML_MODELS_DIR"])
    server = LiveServer(url=f"http://127.0.0.1:{port}", env=env,
                        config=type("LiveConfig", (DevelopmentConfig,), overrides))
    migrated = server.flask("db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    logs = tmp / "logs"
    logs.mkdir()
    worker = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "worker", "--name", worker_name],
                              env=env, cwd=ROOT, stdout=open(logs / "worker.log", "w"),
                              stderr=subprocess.STDOUT)
    web = subprocess.Popen([str(BIN / "gunicorn"), "--worker-class", "gthread", "--workers", "1",
                            "--threads", "8", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                           env=env, cwd=ROOT, stdout=open(logs / "web.log", "w"), stderr=subprocess.STDOUT)
    server.processes = [worker, web]
    server.logs = logs
    try:
        wait_for(server.url + "/auth/login", web)
        yield server
    finally:
        for process in server.processes:
            process.terminate()
        for process in server.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        embedded_redis.shutdown(instance)
        drop_database()


_last_steps: dict[str, int] = {}


def unused_code(secret: str) -> str:
    """Codes are single-use: a second log-in within 30 s types the next step's code (accepted
    for clock drift), as a person would after waiting for their app to show a new one."""
    totp = pyotp.TOTP(secret)
    step = max(int(time.time()) // totp.interval, _last_steps.get(secret, -1) + 1)
    _last_steps[secret] = step
    return totp.generate_otp(step)


def log_in(page, user: dict) -> None:
    """Log in through the form; clinicians (who have `totp_secret`) also pass the second step."""
    page.goto("/auth/login")
    page.fill("input[name=email]", user["email"])
    page.fill("input[name=password]", user["password"])
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if user.get("totp_secret"):
        page.wait_for_url("**/auth/mfa")
        page.fill("input[name=code]", unused_code(user["totp_secret"]))
        page.click("main button[type=submit]")
        page.wait_for_load_state()


def enrol_second_factor(page) -> str:
    """On the enrolment page: scan the QR code as a phone would, check it against the key shown
    for typing by hand, confirm, return the key."""
    page.wait_for_url("**/auth/mfa/setup")
    secret = page.locator("#totp-secret").inner_text()
    scanned = urlsplit(scan_qr_code(page, "img[alt^='QR code']"))
    assert (scanned.scheme, scanned.netloc) == ("otpauth", "totp")
    assert parse_qs(scanned.query)["secret"] == [secret]
    page.fill("input[name=code]", unused_code(secret))
    page.click("main button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    return secret


def scan_qr_code(page, selector: str) -> str:
    """What an authenticator app reads from the QR image as the browser renders it."""
    image = page.locator(selector)
    assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR image did not decode"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.screenshot())))
    assert len(decoded) == 1, f"expected one QR code, read {len(decoded)}"
    return decoded[0].text


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE_WIDTH = 390


def axe_violations(page) -> list[str]:
    """WCAG 2.1 A/AA violations axe-core finds in the page as it is now."""
    # Evaluated through the DevTools protocol: the page's CSP (no inline script) stays on.
    page.evaluate(AXE.read_text() + "\n;true")
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['target']})"
            for v in result["violations"]]


def assert_accessible(page, name: str) -> None:
    """axe-core passes at the page's own width and on a 390 px phone."""
    viewport = page.viewport_size
    widths = [viewport["width"]] + ([PHONE_WIDTH] if viewport["width"] != PHONE_WIDTH else [])
    for width in widths:
        page.set_viewport_size({"width": width, "height": viewport["height"]})
        found = axe_violations(page)
        assert found == [], f"{name} at {width} px: {found}"
    page.set_viewport_size(viewport)


def screenshot(page, name: str) -> Path:
    """Every page state a browser test shows is also checked with axe-core (1280 and 390 px)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if not page.url.endswith(".pdf"):
        assert_accessible(page, name)
    return path


RESULT_TIMEOUT = 90_000  # ms: a cold worker loads TensorFlow before its first screening


def answer_phq9(page, answers, difficulty=1):
    for number, value in enumerate(answers, start=1):
        page.check(f"input[name=q{number}][value='{value}']")
    page.check(f"input[name=difficulty][value='{difficulty}']")


def consent_from_home(page):
    page.goto("/patient")
    page.locator("#screening-panel").get_by_role("link", name="Take a screening").click()
    page.wait_for_url("**/screenings/consent")
    page.click("#give-consent")
    page.wait_for_url("**/screenings/new")


def take_photo_screening(page, photo, answers) -> int:
    page.goto("/screenings/new")
    page.set_input_files("#media", str(photo))
    answer_phq9(page, answers)
    page.click("#submit-screening")
    page.wait_for_url(re.compile(r".*/screenings/\d+$"))
    return int(page.url.rsplit("/", 1)[1])
