"""The catalogue workflow: the check that CI runs fails on an untranslated message and passes on
the shipped catalogues; a third language is a catalogue, not a code change; a missing .mo is
compiled when the app starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from app.i18n.catalogues import available_languages, compile_missing

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "app" / "translations"
CHECK = ROOT / "scripts" / "check_translations.py"


def _check(translations: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), "--translations", str(translations)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def _copy_of_spanish(tmp_path: Path) -> Path:
    folder = tmp_path / "translations" / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(SHIPPED / "es" / "LC_MESSAGES" / "messages.po", folder / "messages.po")
    return folder / "messages.po"


def _edit(po: Path, change) -> None:
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="es")
    change(catalog)
    with po.open("wb") as handle:
        write_po(handle, catalog)


def test_the_shipped_catalogues_translate_every_message():
    result = _check(SHIPPED)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "es: all" in result.stdout


def test_the_check_fails_listing_a_missing_an_empty_and_a_fuzzy_message(tmp_path):
    po = _copy_of_spanish(tmp_path)

    def spoil(catalog):
        catalog.delete("Little interest or pleasure in doing things")
        catalog["Several days"].string = ""
        catalog["Nearly every day"].flags.add("fuzzy")

    _edit(po, spoil)
    result = _check(tmp_path / "translations")
    assert result.returncode == 1
    assert "missing: 'Little interest or pleasure in doing things'" in result.stdout
    assert "empty: 'Several days'" in result.stdout
    assert "fuzzy: 'Nearly every day'" in result.stdout


def test_a_third_language_is_a_catalogue(tmp_path):
    translations = tmp_path / "translations"
    _copy_of_spanish(tmp_path)
    assert available_languages(translations) == ["en", "es"]
    (translations / "pt" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(translations / "es" / "LC_MESSAGES" / "messages.po", translations / "pt" / "LC_MESSAGES")
    assert available_languages(translations) == ["en", "es", "pt"]


def test_a_missing_or_stale_mo_is_compiled(tmp_path):
    po = _copy_of_spanish(tmp_path)
    assert compile_missing(tmp_path / "translations") == ["es"]
    mo = po.with_suffix(".mo")
    assert mo.stat().st_size > 1000
    assert compile_missing(tmp_path / "translations") == []  # up to date: nothing to do
    stale = po.stat().st_mtime - 10
    os.utime(mo, (stale, stale))  # the .po changed after the .mo was built
    assert compile_missing(tmp_path / "translations") == ["es"]
