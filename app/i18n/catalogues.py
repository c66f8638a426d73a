"""The shipped catalogues: app/translations/<language>/LC_MESSAGES/messages.po.

A language is offered when its catalogue directory exists, so a third language is a new
catalogue, not a code change. The compiled .mo files are build output (git-ignored): `make
setup` compiles them, and `compile_missing` compiles any that is missing or older than its .po
when the app starts, so a checkout that skipped the step still speaks every shipped language.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"  # the language the code is written in: it needs no catalogue
DOMAIN = "messages"


def catalogue_paths(translations: Path) -> dict[str, Path]:
    """Language code -> its .po file, for every catalogue directory under `translations`."""
    if not translations.is_dir():
        return {}
    found = {}
    for folder in sorted(translations.iterdir()):
        po = folder / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.is_file():
            found[folder.name] = po
    return found


def available_languages(translations: Path) -> list[str]:
    """English first, then every shipped catalogue's language."""
    return [DEFAULT_LANGUAGE] + [code for code in catalogue_paths(translations) if code != DEFAULT_LANGUAGE]


def compile_missing(translations: Path) -> list[str]:
    """Compile each catalogue whose .mo is missing or older than its .po; returns their languages."""
    compiled = []
    for code, po in catalogue_paths(translations).items():
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            compile_catalogue(po, mo)
        except OSError:
            # A read-only install without its compiled catalogues shows English for that language.
            log.warning("could not compile the %s catalogue %s", code, po, exc_info=True)
            continue
        compiled.append(code)
    return compiled


def compile_catalogue(po: Path, mo: Path) -> None:
    with po.open("rb") as source:
        catalog = read_po(source, locale=po.parent.parent.name)
    # Written aside and renamed: several web workers starting at once never read half a file.
    handle, temporary = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(handle, "wb") as target:
            write_mo(target, catalog)
        os.chmod(temporary, 0o644)
        os.replace(temporary, mo)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
