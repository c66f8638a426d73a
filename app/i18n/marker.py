"""`N_` marks a string for the catalogue without translating it.

Modules that may not import Flask (app/clinical, app/ml) or that define text at import time
(before any request has a language) wrap their strings in `N_`; `pybabel extract` collects
them (babel.cfg lists `N_` as a keyword), and the place that shows the text translates it with
`gettext(text)` in the reader's language.
"""


def N_(message: str) -> str:  # noqa: N802  (the conventional gettext spelling)
    return message
