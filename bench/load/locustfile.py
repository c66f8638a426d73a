"""Locust scenario for the MoodLens load benchmark (started by bench/load/run_load.py).

Three kinds of users, all on loopback, logged in through the real forms:
- PatientBrowser: patient home, screenings list, doctor directory, their consultation page,
  posting a chat message and polling the chat fragment (as htmx does);
- DoctorBrowser: doctor home, inbox, a consultation, chat polling and replies (TOTP login);
- PhotoScreener: one photo screening each (the astronaut as JPEG + PHQ-9 through
  /screenings/new), then polls the status fragment until it is finished, then idles.

Accounts come from the JSON written by bench/load/seed.py (MOODLENS_LOAD_SEED).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import re
import time

import gevent
import gevent.event
import pyotp
from locust import HttpUser, between, constant, events, task

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')
SEED = json.loads(open(os.environ["MOODLENS_LOAD_SEED"]).read())  # noqa: SIM115
PASSWORD = SEED["password"]
PATIENTS = itertools.cycle(SEED["patients"])
DOCTORS = itertools.cycle(SEED["doctors"])
SCREENERS = iter(SEED["screeners"])
HTMX = {"HX-Request": "true"}
POLL_LIMIT_SECONDS = float(os.environ.get("MOODLENS_LOAD_POLL_LIMIT", "240"))
# Everyone logs in first (the login storm has its own rows); the measured browsing and the 20
# simultaneous uploads start together once the last user is in (or after READY_TIMEOUT).
EXPECTED = sum(
    int(os.environ.get(f"MOODLENS_LOAD_{kind}", default))
    for kind, default in (("PATIENTS", 45), ("DOCTORS", 5), ("SCREENERS", 20))
)
READY = gevent.event.Event()
READY_TIMEOUT = 120
_logged_in = 0
# screening id -> seconds from submit until the fragment said it was finished (client view)
SUBMITTED: dict[int, float] = {}


def _photo() -> bytes:
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


PHOTO = _photo()


class MoodLensUser(HttpUser):
    abstract = True

    def csrf(self, url: str, name: str) -> str:
        with self.client.get(url, name=name, catch_response=True) as response:
            match = CSRF_RE.search(response.text)
            if not match:
                response.failure(f"no CSRF token on {url}")
                raise RuntimeError(f"no CSRF token on {url}")
            return match.group(1)

    def log_in(self, email: str, totp_secret: str | None = None) -> None:
        token = self.csrf("/auth/login", "/auth/login")
        with self.client.post(
            "/auth/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
            name="/auth/login",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}")
                raise RuntimeError("login failed")
            location = response.headers["Location"]
        if location.endswith("/auth/mfa"):
            token = self.csrf("/auth/mfa", "/auth/mfa")
            with self.client.post(
                "/auth/mfa",
                data={"code": pyotp.TOTP(totp_secret).now(), "csrf_token": token},
                allow_redirects=False,
                name="/auth/mfa",
                catch_response=True,
            ) as response:
                if response.status_code != 302 or response.headers["Location"].endswith("/auth/mfa"):
                    response.failure(f"MFA answered {response.status_code}")
                    raise RuntimeError("MFA failed")

    def ready(self) -> None:
        global _logged_in
        _logged_in += 1
        if _logged_in >= EXPECTED:
            READY.set()
        READY.wait(timeout=READY_TIMEOUT)

    def chat(self, consultation: int) -> None:
        token = self.csrf(f"/consultations/{consultation}", "/consultations/[id]")
        self.client.post(
            f"/consultations/{consultation}/messages",
            headers=HTMX,
            data={"body": f"load message {random.randint(0, 10**6)}", "csrf_token": token},
            name="/consultations/[id]/messages",
        )


class PatientBrowser(MoodLensUser):
    fixed_count = int(os.environ.get("MOODLENS_LOAD_PATIENTS", "45"))
    wait_time = between(1, 3)

    def on_start(self) -> None:
        account = next(PATIENTS)
        self.consultation = account["consultation"]
        self.log_in(account["email"])
        self.ready()

    @task(3)
    def home(self) -> None:
        self.client.get("/patient", name="/patient")

    @task(2)
    def screenings(self) -> None:
        self.client.get("/screenings", name="/screenings")

    @task(2)
    def directory(self) -> None:
        self.client.get("/doctors", name="/doctors")

    @task(2)
    def consultation_page(self) -> None:
        self.client.get(f"/consultations/{self.consultation}", name="/consultations/[id]")

    @task(6)
    def poll_chat(self) -> None:
        self.client.get(
            f"/consultations/{self.consultation}/messages",
            headers=HTMX,
            name="/consultations/[id]/messages (poll)",
        )

    @task(2)
    def post_chat(self) -> None:
        self.chat(self.consultation)


class DoctorBrowser(MoodLensUser):
    fixed_count = int(os.environ.get("MOODLENS_LOAD_DOCTORS", "5"))
    wait_time = between(1, 3)

    def on_start(self) -> None:
        account = next(DOCTORS)
        self.consultations = account["consultations"]
        self.log_in(account["email"], account["totp_secret"])
        self.ready()

    @task(2)
    def home(self) -> None:
        self.client.get("/doctor", name="/doctor")

    @task(2)
    def inbox(self) -> None:
        self.client.get("/consultations", name="/consultations")

    @task(2)
    def consultation_page(self) -> None:
        self.client.get(f"/consultations/{random.choice(self.consultations)}", name="/consultations/[id]")

    @task(4)
    def poll_chat(self) -> None:
        self.client.get(
            f"/consultations/{random.choice(self.consultations)}/messages",
            headers=HTMX,
            name="/consultations/[id]/messages (poll)",
        )

    @task(1)
    def reply(self) -> None:
        self.chat(random.choice(self.consultations))


class PhotoScreener(MoodLensUser):
    """One screening per user; all of them start together (spawn rate = user count)."""

    fixed_count = int(os.environ.get("MOODLENS_LOAD_SCREENERS", "20"))
    wait_time = constant(1)

    def on_start(self) -> None:
        self.log_in(next(SCREENERS)["email"])
        self.done = False
        self.ready()

    @task
    def screen_once(self) -> None:
        if self.done:
            gevent.sleep(5)
            return
        self.done = True
        token = self.csrf("/screenings/new", "/screenings/new")
        data = {f"q{n}": str(v) for n, v in enumerate([1, 1, 0, 1, 0, 2, 0, 1, 0], start=1)}
        data.update(difficulty="1", csrf_token=token)
        started = time.monotonic()
        with self.client.post(
            "/screenings/new",
            data=data,
            files={"media": ("astronaut.jpg", PHOTO, "image/jpeg")},
            allow_redirects=False,
            name="/screenings/new",
            catch_response=True,
        ) as response:
            if response.status_code != 303:
                response.failure(f"upload answered {response.status_code}")
                return
            location = response.headers["Location"]
        screening_id = int(location.rsplit("/", 1)[1])
        self.client.get(location, name="/screenings/[id]")
        while time.monotonic() - started < POLL_LIMIT_SECONDS:
            response = self.client.get(
                f"{location}/status", headers=HTMX, name="/screenings/[id]/status (poll)"
            )
            if response.status_code == 286:  # htmx "stop polling": finished
                SUBMITTED[screening_id] = time.monotonic() - started
                return
            gevent.sleep(1)
        events.request.fire(
            request_type="POLL",
            name="screening finished in time",
            response_time=0,
            response_length=0,
            exception=TimeoutError(f"screening {screening_id} not finished"),
            context={},
        )


@events.quitting.add_listener
def _write_client_turnaround(environment, **_kwargs) -> None:
    out = os.environ.get("MOODLENS_LOAD_CLIENT_OUT")
    if out:
        with open(out, "w") as handle:
            json.dump(SUBMITTED, handle)
