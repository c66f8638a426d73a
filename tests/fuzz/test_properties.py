"""Property-based tests (hypothesis, derandomized): media decoders, the PHQ-9 form, PHQ-9 scoring.

(a) The decoders on arbitrary and on mutated valid bytes either give a well-formed result or
    raise a `MediaError` with a message; never another exception.
(b) The PHQ-9 form through the real upload route: valid answers are stored scored exactly as
    `score_phq9` says; anything else is a 422 with a message; never a 500.
(c) `score_phq9` invariants: total, band edges, item 9 crisis flag, monotonic syndrome rules.
"""

from __future__ import annotations

import html
import io
import re
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from PIL import Image

from app.clinical.phq9 import BANDS, PHQ9_ITEMS, Phq9Error, band_for, score_phq9
from app.extensions import db
from app.ml import media
from app.models.screening import Screening
from app.services import consent
from tests import factories
from tests.fuzz.corpus import _gif, _image, _jpeg_with_exif, _video
from tests.helpers import csrf_token, login

# Pillow warns about (and skips) broken EXIF tags of mutated files: expected here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")

DECODER_SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FORM_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SCORE_SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None)

MAX_PIXELS = 1_000_000  # a small limit keeps mutated headers from allocating much, and is checked
JPEG = _image(size=(48, 32))
PNG = _image(size=(24, 16), fmt="PNG")
# bitexact: no random track ids, so the same derandomized mutations hit the same bytes every run.
WEBM = _video(seconds=0.6, fps=5, size=(32, 24), options={"fflags": "+bitexact"})
EXIF_JPEG = _jpeg_with_exif()  # rotated by its EXIF orientation, with a GPS block
VALID = {"jpeg": JPEG, "png": PNG, "webm": WEBM, "exif": EXIF_JPEG, "webp": _image(size=(24, 16), fmt="WEBP"),
         "gif": _gif(1, size=(16, 16)), "mp4": _video("mp4", "libx264", seconds=0.6, size=(32, 24))}


# --- (a) media decoders -----------------------------------------------------------------------


@st.composite
def mutated(draw, base: bytes) -> bytes:
    """Valid bytes damaged by a few bit flips, byte overwrites, insertions, deletions, a truncation."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "flip", "flip", "set", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[at] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80]))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[at: at + draw(st.integers(1, 64))]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


def _media_bytes(base: str):
    return st.one_of(mutated(VALID[base]), st.binary(max_size=2048).map(lambda tail: VALID[base][:32] + tail))


def note_outcome(outcome: str) -> None:
    """Tally outcomes (`--hypothesis-show-statistics`) when called from a property."""
    if currently_in_test_context():
        event(outcome)


def check_media_error(error: media.MediaError, data: bytes) -> None:
    assert isinstance(error.message, str) and len(error.message.strip()) >= 10, (error, data[:64])


def check_image(data: bytes) -> None:
    try:
        image = media.decode_image(data, max_pixels=MAX_PIXELS)
    except media.MediaError as error:
        check_media_error(error, data)
        note_outcome(f"image: {type(error).__name__}")
        return
    note_outcome("image: decoded")
    assert isinstance(image, Image.Image) and image.mode == "RGB"
    assert 0 < image.width * image.height <= MAX_PIXELS
    assert not image.info  # no metadata survives
    assert media.reencode_jpeg(image).startswith(b"\xff\xd8\xff")


def check_clip(data: bytes, max_seconds: float = 30.0) -> None:
    try:
        frames = list(media.decode_clip(data, max_seconds=max_seconds))
    except media.MediaError as error:
        check_media_error(error, data)
        note_outcome(f"clip: {type(error).__name__}")
        return
    note_outcome(f"clip: {len(frames)} frames")
    assert frames  # decode_clip yields frames or raises
    times = [frame.timestamp for frame in frames]
    assert times[0] == 0.0 and all(b > a for a, b in zip(times, times[1:], strict=False)), times
    assert times[-1] <= max_seconds
    assert all(b.index > a.index for a, b in zip(frames, frames[1:], strict=False))
    for frame in frames:
        assert frame.rgb.dtype == np.uint8 and frame.rgb.ndim == 3 and frame.rgb.shape[2] == 3
        assert frame.rgb.shape[0] > 0 and frame.rgb.shape[1] > 0


def test_valid_samples_decode():
    """The bases of the mutations are valid, so the properties below start from good files."""
    assert media.decode_image(JPEG).size == (48, 32) and media.decode_image(PNG).size == (24, 16)
    assert media.decode_image(EXIF_JPEG).size == (30, 40)  # upright: orientation 6 applied
    assert media.decode_image(VALID["webp"]).size == (24, 16)
    assert media.decode_image(VALID["gif"]).size == (16, 16)
    assert len(list(media.decode_clip(WEBM))) == 3 and len(list(media.decode_clip(VALID["mp4"]))) == 3
    assert [media.sniff_media_kind(VALID[k]) for k in ("jpeg", "png", "webm")] == ["image", "image", "video"]


MAGIC = [b"", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"BM", b"RIFF\x00\x01\x00\x00WEBPVP8 ",
         b"\x1a\x45\xdf\xa3", b"OggS", b"\x00\x00\x00\x18ftypisom", b"RIFF\x00\x01\x00\x00AVI "]


@DECODER_SETTINGS
@given(st.tuples(st.sampled_from(MAGIC), st.binary(max_size=4096)).map(b"".join))
def test_arbitrary_bytes_never_escape_the_decoders(data):
    assert media.sniff_media_kind(data) in {"image", "video", None}
    check_image(data)
    check_clip(data)


@DECODER_SETTINGS
@given(st.sampled_from(["jpeg", "png", "exif", "webp", "gif"]).flatmap(_media_bytes))
def test_mutated_images_decode_or_raise_a_media_error(data):
    assert media.sniff_media_kind(data) in {"image", "video", None}
    check_image(data)


@DECODER_SETTINGS
@given(st.sampled_from(["webm", "mp4"]).flatmap(_media_bytes), st.sampled_from([30.0, 0.3]))
def test_mutated_webm_decodes_or_raises_a_media_error(data, max_seconds):
    assert media.sniff_media_kind(data) in {"image", "video", None}
    check_clip(data, max_seconds)


def test_regression_malformed_exif_is_ignored_not_a_type_error():
    """Found by the mutation property: one flipped bit in a GPS tag's type made Pillow's
    exif_transpose raise TypeError while writing the EXIF back; upload answered 500. The
    orientation is still applied; the (discarded) metadata no longer matters."""
    broken = _jpeg_with_exif(malformed_gps=True)
    image = media.decode_image(broken)
    assert image.size == (30, 40) and image.mode == "RGB" and not image.info


def test_regression_video_frames_have_a_pixel_limit():
    """Found by the corpus: 30 KB of VP8 decoded to 18-megapixel frames (8192x8192 took 2.9 GB
    in the worker); clips had no pixel limit while photos had one."""
    from tests.fuzz.corpus import _huge_webm

    with pytest.raises(media.VideoTooLarge):
        next(media.decode_clip(_huge_webm()))
    with pytest.raises(media.VideoTooLarge):
        next(media.decode_clip(WEBM, max_frame_pixels=32 * 24 - 1))
    assert len(list(media.decode_clip(WEBM, max_frame_pixels=32 * 24))) == 3


def test_regression_unknown_codec_is_not_a_video_not_an_attribute_error():
    """Found while adding the frame limit: a codec id no decoder knows leaves the stream
    without a codec context; that must stay a NotAVideo."""
    unknown = WEBM.replace(b"V_VP9", b"V^VP9", 1)
    assert unknown != WEBM
    with pytest.raises(media.NotAVideo):
        next(media.decode_clip(unknown))


def test_regression_frames_out_of_time_order_are_dropped():
    """Found by the mutation property: one flipped bit in an H.264 slice header made the
    decoder hand out frames at 0.0, 0.4, then 0.2 s; time must only move forward."""
    mp4 = VALID["mp4"]
    second_frame = b"\x00\x00\x00\x19A\x9a!"  # length-prefixed NAL of the second picture
    assert second_frame in mp4, "the encoder changed: find the flipped bit again"
    damaged = mp4.replace(second_frame, b"\x00\x00\x00\x19A\x9a#", 1)
    check_clip(damaged)
    assert [frame.timestamp for frame in media.decode_clip(damaged)] == [0.0, 0.4]


# --- (b) the PHQ-9 form through the real route ------------------------------------------------

FORM_ERROR = re.compile(r'<div id="form-error"[^>]*>(.*?)</div>', re.S)
VALID_ANSWER = st.sampled_from(["0", "1", "2", "3"]).map(lambda v: ("valid", v))
INVALID_ANSWER = st.one_of(
    st.just(("missing", None)),
    st.just(("invalid", "")),
    st.integers().filter(lambda n: n not in range(4)).map(lambda n: ("invalid", str(n))),
    st.sampled_from(["1.5", "2.0", "three", "null", "true", "0x2", "1e0", "NaN", "-0.0", "[1]"]).map(
        lambda v: ("invalid", v)),
    st.text(alphabet=st.characters(blacklist_categories=["Nd", "Cs"]), min_size=1, max_size=30).map(
        lambda v: ("invalid", v)),
    st.integers(5000, 60000).map(lambda n: ("invalid", "7" * n)),  # huge strings
)
WEIRD_ANSWER = st.one_of(
    st.lists(st.sampled_from(["0", "1", "2", "3", "9", "x"]), min_size=2, max_size=3).map(
        lambda v: ("list", v)),
    st.text(max_size=12).map(lambda v: ("text", v)),
)
ANSWER = st.one_of(VALID_ANSWER, VALID_ANSWER, INVALID_ANSWER, WEIRD_ANSWER)
# The filename is only logged, never trusted: traversal, NUL, unicode, huge names change nothing.
FILENAME = st.one_of(
    st.sampled_from(["face.jpg", "../../etc/passwd", "a\x00.php", "face.jpg.exe", "%00.png", "ünï😀.webm"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters='"\\'),
            min_size=1, max_size=2000),
)
NINE_VALID = st.lists(VALID_ANSWER, min_size=9, max_size=9)
NINE_MIXED = st.lists(ANSWER, min_size=9, max_size=9)
DIFFICULTY = st.one_of(
    st.sampled_from([("valid", None), ("valid", "")]),
    st.sampled_from(["0", "1", "2", "3"]).map(lambda v: ("valid", v)),
    st.sampled_from(["0", "1", "2", "3"]).map(lambda v: ("valid", v)),
    st.sampled_from(["4", "-1", "x", "1.0", "9" * 5000]).map(lambda v: ("invalid", v)),
)


@pytest.fixture
def form_client(app_factory):
    app = app_factory(RATELIMIT_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        user = factories.patient()
        consent.grant(user)
        email = user.email
    login(client, SimpleNamespace(email=email))
    return SimpleNamespace(app=app, client=client, token=csrf_token(client, "/screenings/consent"))


def _post(ctx, answers, difficulty, as_json: bool, filename: str = "face.jpg"):
    data = {"csrf_token": ctx.token, "media": (io.BytesIO(JPEG), filename)}
    for number, (_, value) in enumerate(answers, start=1):
        if value is not None:
            data[f"q{number}"] = value
    if difficulty[1] is not None:
        data["difficulty"] = difficulty[1]
    headers = {"Accept": "application/json"} if as_json else {}
    return ctx.client.post("/screenings/new", data=data, headers=headers, content_type="multipart/form-data")


def _message(response, as_json: bool) -> str:
    if as_json:
        return response.get_json()["error"]["message"]
    match = FORM_ERROR.search(response.get_data(as_text=True))
    return html.unescape(match.group(1)).strip() if match else ""


def _stored(ctx, response, as_json: bool) -> Screening:
    if as_json:
        screening_id = response.get_json()["id"]
    else:
        screening_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with ctx.app.app_context():
        db.session.remove()
        return db.session.get(Screening, screening_id)


def test_phq9_form_accepts_exactly_the_valid_answers_and_scores_them(form_client):
    ctx = form_client
    seen = {"accepted": 0, "refused": 0}

    @FORM_SETTINGS
    @given(st.one_of(NINE_VALID, NINE_VALID, NINE_MIXED), DIFFICULTY, st.booleans(), FILENAME)
    def check(answers, difficulty, as_json, filename):
        response = _post(ctx, answers, difficulty, as_json, filename)
        kinds = {kind for kind, _ in answers}
        described = f"answers={[(k, v if v is None or len(v) < 40 else v[:10] + '…') for k, v in answers]}"
        assert response.status_code in {201, 303, 422}, (response.status_code, described)
        if response.status_code == 422:
            seen["refused"] += 1
            message = _message(response, as_json)
            assert message.startswith("Please check the form") and len(message) > 25, (message, described)
            assert kinds - {"valid"} or difficulty[0] == "invalid", f"valid answers refused: {described}"
            first = message.split(";")[0]
            unanswered = set(re.findall(r"\d+", first)) if "still need" in first else set()
            for number, (kind, _) in enumerate(answers, start=1):
                if kind in {"missing", "invalid"}:
                    assert f"question {number}:" in message or str(number) in unanswered, (message, described)
            if difficulty[0] == "invalid":
                assert "Difficulty" in message, message
            return
        seen["accepted"] += 1
        assert kinds <= {"valid", "list", "text"} and difficulty[0] == "valid", f"accepted: {described}"
        screening = _stored(ctx, response, as_json)
        expected_answers = screening.phq9_answers
        for (kind, value), stored in zip(answers, expected_answers, strict=True):
            # A repeated field counts by its first value (as any HTML form would send one).
            assert stored == int(value[0] if kind == "list" else value), described
        wanted_difficulty = None if difficulty[1] in (None, "") else int(difficulty[1])
        result = score_phq9([int(v) for k, v in answers] if kinds == {"valid"} else expected_answers,
                            wanted_difficulty)
        assert list(result.answers) == expected_answers
        assert (screening.phq9_total, screening.phq9_band, screening.phq9_item9, screening.urgent,
                screening.phq9_difficulty) == (result.total, result.band, result.answers[8],
                                               result.item9_positive, result.difficulty), described

    check()
    # The strategies reach both sides of the property.
    assert seen["accepted"] >= 5 and seen["refused"] >= 5, seen


# --- (c) score_phq9 invariants ----------------------------------------------------------------

ITEMS = st.lists(st.integers(0, 3), min_size=len(PHQ9_ITEMS), max_size=len(PHQ9_ITEMS))
SYNDROME_RANK = {None: 0, "other": 1, "major": 2}
BAND_RANK = {band.key: rank for rank, band in enumerate(BANDS)}
EDGES = {0: "minimal", 4: "minimal", 5: "mild", 9: "mild", 10: "moderate", 14: "moderate",
         15: "moderately_severe", 19: "moderately_severe", 20: "severe", 27: "severe"}


@SCORE_SETTINGS
@given(ITEMS, st.one_of(st.none(), st.integers(0, 3)))
def test_score_invariants(answers, difficulty):
    result = score_phq9(answers, difficulty)
    assert result.answers == tuple(answers) and result.difficulty == difficulty
    assert result.total == sum(answers) and 0 <= result.total <= 27
    band = band_for(result.total)
    assert result.band == band.key and band.low <= result.total <= band.high
    if result.total in EDGES:
        assert result.band == EDGES[result.total]
    assert result.item9_positive == (answers[8] > 0)
    count = sum(v >= 2 for v in answers[:8]) + (answers[8] > 0)
    assert result.symptom_count == count
    cardinal = answers[0] >= 2 or answers[1] >= 2
    if result.syndrome is not None:
        assert cardinal and count >= 2
    if result.syndrome == "major":
        assert count >= 5
    if cardinal:
        assert result.syndrome == ("major" if count >= 5 else "other" if count >= 2 else None)
    assert result.to_dict()["total"] == result.total


@SCORE_SETTINGS
@given(ITEMS, st.integers(0, 8), st.integers(1, 3))
def test_raising_an_answer_never_lowers_the_result(answers, item, step):
    answers[item] = min(answers[item], 3 - step)
    before = score_phq9(answers)
    raised = list(answers)
    raised[item] += step
    after = score_phq9(raised)
    assert after.total == before.total + step
    assert BAND_RANK[after.band] >= BAND_RANK[before.band]
    assert SYNDROME_RANK[after.syndrome] >= SYNDROME_RANK[before.syndrome]
    assert after.symptom_count >= before.symptom_count
    assert after.item9_positive >= before.item9_positive


BAD_VALUE = st.one_of(
    st.integers().filter(lambda n: n not in range(4)), st.booleans(), st.floats(allow_nan=True),
    st.text(max_size=3), st.none(), st.lists(st.integers(0, 3), max_size=2),
)


@SCORE_SETTINGS
@given(ITEMS, st.integers(0, 8), BAD_VALUE, st.integers(0, 20))
def test_invalid_answers_raise_a_phq9_error_with_a_message(answers, item, bad, length):
    broken = list(answers)
    broken[item] = bad
    with pytest.raises(Phq9Error) as error:
        score_phq9(broken)
    assert f"Question {item + 1}" in error.value.message
    if length != len(PHQ9_ITEMS):
        with pytest.raises(Phq9Error, match="answer all"):
            score_phq9((answers * 3)[:length])
    with pytest.raises(Phq9Error, match="difficulty"):
        score_phq9(answers, bad if bad is not None else 4)
