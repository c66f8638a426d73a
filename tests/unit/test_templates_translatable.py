"""Every word a template shows a person goes through the translation catalogue: text left outside
`_()` / `{% trans %}` stays English in the Spanish edition, and the catalogue check cannot see it."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
# The same in every language: the product, the instrument, a metric, a token prefix, units.
NAMES = {"MoodLens", "PHQ", "ROC", "AUC", "mlk", "MB", "ms"}
READ_ATTRIBUTES = re.compile(r'\b(?:aria-label|title|placeholder|alt)="([^"]*)"')


def _without_code(source: str) -> str:
    source = re.sub(r"{#.*?#}", "", source, flags=re.S)
    source = re.sub(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", "", source, flags=re.S)
    source = re.sub(r"<(script|style)\b.*?</\1>", "", source, flags=re.S)
    source = re.sub(r"{{.*?}}", "", source, flags=re.S)
    return re.sub(r"{%.*?%}", "", source, flags=re.S)


def _untranslated(text: str) -> bool:
    words = set(re.findall(r"[A-Za-z]{2,}", text))
    return bool(words - NAMES)


def untranslated_text(source: str) -> list[str]:
    markup = _without_code(source)
    found = [value for value in READ_ATTRIBUTES.findall(markup) if _untranslated(value)]
    text = re.sub(r"<[^>]*>", "\n", markup)
    found += [line.strip() for line in text.splitlines() if _untranslated(line)]
    return found


def test_the_scan_finds_text_outside_the_catalogue():
    markup = '<p>{{ _("Saved") }} Waiting</p><b aria-label="Close">x</b>'
    assert untranslated_text(markup) == ["Close", "Waiting"]
    assert untranslated_text('<p>{% trans %}Saved {{ n }}{% endtrans %} PHQ-9</p>') == []


def test_every_template_shows_only_translatable_text():
    offenders = {str(path.relative_to(TEMPLATES)): found for path in sorted(TEMPLATES.rglob("*.html"))
                 if (found := untranslated_text(path.read_text(encoding="utf-8")))}
    assert offenders == {}
