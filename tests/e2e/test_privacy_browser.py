"""Privacy controls in real Chromium against gunicorn and a real worker: a patient screens,
downloads all their data from the privacy page, then deletes their account."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from PIL import Image

from tests import samples
from tests.e2e.browser import RESULT_TIMEOUT, consent_from_home, log_in, screenshot, take_photo_screening

pytestmark = pytest.mark.browser


def test_download_everything_then_delete_the_account(live_server, new_page, tmp_path):
    patient = live_server.create_user("patient", name="Petra Private")
    photo = tmp_path / "me.jpg"
    photo.write_bytes(samples.astronaut_jpeg())
    page = new_page()
    log_in(page, patient)
    consent_from_home(page)
    screening_id = take_photo_screening(page, photo, [1, 1, 0, 1, 0, 0, 1, 0, 0])
    page.wait_for_selector("#affect-indicator", timeout=RESULT_TIMEOUT)

    # The privacy page, from the navigation bar.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy").click()
    page.wait_for_url("**/account")
    assert "1 screening:" in page.inner_text("#stored")
    screenshot(page, "privacy-01-page")

    with page.expect_download() as download_info:
        page.click("#download-data")
    download = download_info.value
    assert re.fullmatch(r"moodlens-data-\d{4}-\d{2}-\d{2}\.zip", download.suggested_filename)
    archive = zipfile.ZipFile(download.path())
    data = json.loads(archive.read("data.json"))
    assert data["profile"]["full_name"] == "Petra Private"
    (screening,) = data["screenings"]
    assert screening["id"] == screening_id and screening["status"] == "done"
    with Image.open(io.BytesIO(archive.read(screening["media"]["face_crop"]["file"]))) as crop:
        assert crop.format == "JPEG"

    # A wrong password is refused, with the reason next to the field.
    page.fill("#password", "not the right password")
    page.check("#understood")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-account")
    page.wait_for_selector("#delete-errors")
    assert "Nothing was deleted" in page.inner_text("#delete-errors")

    media = live_server.config.INSTANCE_PATH / "media" / "screenings" / str(patient["id"])
    assert any(path.is_file() for path in media.rglob("*"))
    page.fill("#password", patient["password"])
    page.check("#understood")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-account")
    page.wait_for_url("**/account/deleted")
    assert "Your account is deleted" in page.inner_text("#account-deleted")
    screenshot(page, "privacy-02-deleted")
    assert not media.exists()

    # Logged out, and the account no longer exists.
    page.goto("/account")
    page.wait_for_url("**/auth/login**")
    log_in(page, patient)
    assert "do not match an active account" in page.inner_text("#messages")
