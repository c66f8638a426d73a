"""`N_` marks a string for the catalogue without translating it.

Modules that may not import Flask (app/clinical, app/ml) or that define text at import time
(before any request has a language) wrap their strings in `N_`; `pybabel extract` collects
them (babel.cfg lists `N_` as a keyword), and the place that shows the text translates it with
`gettext(text)` in the reader's language.

A message with values (`N_("Analysed %(seconds)d s of video", seconds=12)`) is a `Marked`:
English text to whoever reads it as a string, which also keeps its msgid and values, so the
place that shows it can translate the message and fill the values in (app/services/language.py).
"""

from __future__ import annotations


class Marked(str):
    """A marked message with its values filled in (in English), keeping both for translation."""

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, params: dict[str, object]) -> Marked:
        text = super().__new__(cls, msgid % params)
        text.msgid, text.params = msgid, params
        return text


def N_(message: str, **params: object) -> str:  # noqa: N802  (the conventional gettext spelling)
    return Marked(message, params) if params else message
