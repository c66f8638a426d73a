"""The report PDF is an accessible document (PDF/UA-1): tagged, with its real title, shown as
the window title, and its language."""

from __future__ import annotations

import re

from app.services import reports
from app.storage import media_store
from tests import factories
from tests.helpers import finalise_report, readable_pdf


def test_the_final_report_pdf_is_tagged_with_title_and_language(app, patient, doctor):
    consultation = factories.consultation(patient, doctor)
    factories.diagnosis(doctor, consultation, severity="moderate")
    report = finalise_report(doctor, reports.create(doctor, consultation))
    pdf = media_store.load(report.pdf_path)
    assert pdf.startswith(b"%PDF")
    content = readable_pdf(pdf)
    assert b"/StructTreeRoot" in content and re.search(rb"/MarkInfo\s*<<\s*/Marked\s+true", content)
    assert b'pdfuaid:part="1"' in content  # declared PDF/UA-1 in the XMP metadata
    assert b"/Lang (en)" in content
    assert re.search(rb"/DisplayDocTitle\s+true", content)
    title = f"MoodLens care report \u2014 patient #{patient.id}".encode()
    assert re.search(rb"<dc:title>.*" + re.escape(title), content, re.S), "the XMP title"
