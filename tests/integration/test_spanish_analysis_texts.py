"""Text made where no reader's language is known (app/ml, app/clinical, the worker's sweep) and
the admin's refusals reach a Spanish reader in Spanish: the clip's progress, media errors at
upload and after analysis, the JSON API's disclaimer, the sweep's stage, the serving-version
refusals and the caseload's attention labels."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from app.clinical import outcomes
from app.extensions import db
from app.i18n.marker import N_, Marked
from app.jobs import analysis, analysis_queue
from app.ml import media, pipeline
from app.models.screening import Screening, ScreeningStatus
from app.services import consent, language, plugin_settings
from tests import factories, samples
from tests.helpers import client_for, submit


def _spanish(user):
    user.locale = "es"
    db.session.commit()
    return user


class _NoFaceDetector:
    """Finds nothing: the clip's frames are decoded and reported on, with no model loaded."""

    max_side = 640

    def detect(self, image, known=None):
        return SimpleNamespace(faces=[], primary=None)


class _Classifier:
    name, version, labels, input_shape = "stub", "1", ("happy", "sad"), (48, 48, 1)

    def predict_batch(self, crops):
        return np.zeros((len(crops), 2))


def test_the_clip_progress_reads_in_spanish(app, patient):
    screening = factories.screening(_spanish(patient), total=3, status=ScreeningStatus.RUNNING)
    reported = []
    pipeline.analyse_clip(samples.clip_webm(seconds=2.0, fps=5, size=(64, 48), face=False),
                          _Classifier(), _NoFaceDetector(), progress=lambda _, text: reported.append(text))
    analysed = [text for text in reported if text.startswith("Analysed")]
    assert analysed and isinstance(analysed[-1], Marked)  # English as a string, with its msgid kept
    progress = analysis._Progress(screening.id, analysis.speaker(screening))
    progress(0.5, analysed[-1], force=True)
    seconds = analysed[-1].params["seconds"]
    assert db.session.get(Screening, screening.id).stage == f"Analizados {seconds} s de video"


def test_a_media_error_at_upload_reads_in_spanish(app, patient):
    consent.grant(_spanish(patient))
    client = client_for(app, patient)
    too_long = samples.clip_webm(seconds=32, fps=2, size=(64, 48), face=False)
    response = submit(client, too_long, filename="clip.webm")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Este video dura más de 30 segundos. Grabe un video más corto." in page
    assert "longer than" not in page


def test_a_media_error_after_analysis_reads_in_spanish(app, patient):
    screening = factories.screening(_spanish(patient), total=3)
    with pytest.raises(media.MediaError) as raised:
        media.decode_image(samples.animated_gif())
    analysis.mark_failed(screening, raised.value.message)
    assert db.session.get(Screening, screening.id).failure_reason == (
        "No se admiten imágenes animadas. Suba una sola foto fija.")


def test_the_api_disclaimer_reads_in_spanish(app, patient):
    screening = factories.screening(_spanish(patient), total=3)
    body = client_for(app, patient).get(f"/api/v1/screenings/{screening.id}").get_json()
    assert body["disclaimer"] == "Esto es una evaluación, no un diagnóstico."


def test_the_sweep_writes_the_waiting_stage_in_the_patient_s_language(app, patient):
    screening = factories.screening(_spanish(patient), total=3, status=ScreeningStatus.PENDING)
    analysis_queue.enqueue(screening)  # outside any request, as the worker's sweep does
    assert db.session.get(Screening, screening.id).stage == "Esperando a un analizador libre"


def test_serving_version_refusals_read_in_spanish(app):
    with app.test_request_context(headers={"Accept-Language": "es"}):
        with pytest.raises(plugin_settings.UnknownPluginError) as raised:
            plugin_settings.set_serving_version("no-such-plugin", "v1")
    assert raised.value.message == ("No hay ningún plugin clasificador llamado 'no-such-plugin' "
                                    "en esta instalación.")


def test_every_attention_label_and_marked_value_has_a_spanish_text(app):
    for label in filter(None, outcomes.ATTENTION_LABELS.values()):
        assert language.translate("es", label) != label, label
    marked = N_("Analysed %(seconds)d s of video", seconds=7)
    assert str(marked) == "Analysed 7 s of video"
    assert language.translate("es", marked) == "Analizados 7 s de video"
