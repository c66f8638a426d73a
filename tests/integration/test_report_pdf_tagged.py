"""The report PDF is an accessible document (PDF/UA-1): tagged, with its real title, shown as
the window title, and its language."""

from __future__ import annotations

import re
import zlib

from app.services import consultations, diagnoses, reports
from app.storage import media_store
from tests import factories
from tests.helpers import finalise_report


def _readable(pdf: bytes) -> bytes:
    """The PDF with its compressed streams (object streams, XMP metadata) inflated."""
    parts = [pdf]
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(stream.group(1)))
        except zlib.error:
            pass  # not Flate-encoded (e.g. an embedded image)
    return b"\n".join(parts)


def test_the_final_report_pdf_is_tagged_with_title_and_language(app, patient, doctor):
    screening = factories.screening(patient, total=12)
    consultation = consultations.request_consultation(patient, doctor.id, [screening.id], "")
    consultations.accept(doctor, consultation)
    diagnoses.record(doctor, consultation, diagnoses.DiagnosisInput(
        outcome="confirmed", severity="moderate", plan="psychotherapy", followup_interval_days=14))
    report = finalise_report(doctor, reports.create(doctor, consultation))
    pdf = media_store.load(report.pdf_path)
    assert pdf.startswith(b"%PDF")
    content = _readable(pdf)
    assert b"/StructTreeRoot" in content and re.search(rb"/MarkInfo\s*<<\s*/Marked\s+true", content)
    assert b'pdfuaid:part="1"' in content  # declared PDF/UA-1 in the XMP metadata
    assert b"/Lang (en)" in content
    assert re.search(rb"/DisplayDocTitle\s+true", content)
    title = f"MoodLens care report \u2014 patient #{patient.id}".encode()
    assert re.search(rb"<dc:title>.*" + re.escape(title), content, re.S), "the XMP title"
