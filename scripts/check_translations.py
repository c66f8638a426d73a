#!/usr/bin/env python3
"""Fail when a shipped catalogue lacks a translation of any string in the code or templates.

Extracts every message of app/ (babel.cfg, the keywords of `make i18n-update`) and checks each
app/translations/<language>/LC_MESSAGES/messages.po: every msgid must be there, translated
(every plural form), and not fuzzy. Lists each problem and exits 1; exits 0 when all is well.
Run by `make lint` and by scripts/run_tests.sh before pytest (so in CI). `--translations DIR`
checks another folder of catalogues (the tests use it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = ("lazy_gettext", "_l", "N_")  # besides pybabel's defaults (_, gettext, ngettext, ...)


def extract(source: Path, config: Path) -> dict:
    """msgid (a string, or a (singular, plural) tuple) -> where it occurs: what `pybabel
    extract -F babel.cfg` finds, through the same library calls."""
    with config.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, filename=str(config))
    keywords = {**DEFAULT_KEYWORDS, **{keyword: None for keyword in KEYWORDS}}
    catalog = Catalog()
    for filename, line, message, comments, context in extract_from_dir(
            source, method_map, options_map, keywords=keywords):
        catalog.add(message, None, [(filename, line)], auto_comments=comments, context=context)
    return {message.id: message.locations for message in catalog if message.id}


def problems_in(po: Path, expected: dict) -> list[str]:
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name)
    found = []
    for msgid, locations in expected.items():
        where = ", ".join(f"{path}:{line}" for path, line in locations[:2])
        message = catalog.get(msgid)
        singular = msgid[0] if isinstance(msgid, tuple) else msgid
        if message is None:
            found.append(f"missing: {singular!r} ({where})")
        elif message.fuzzy:
            found.append(f"fuzzy: {singular!r} ({where})")
        elif not (all(message.string) if isinstance(message.string, tuple) else message.string):
            found.append(f"empty: {singular!r} ({where})")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--translations", type=Path, default=ROOT / "app" / "translations")
    parser.add_argument("--source", type=Path, default=ROOT / "app")
    parser.add_argument("--config", type=Path, default=ROOT / "babel.cfg")
    args = parser.parse_args(argv)
    expected = extract(args.source, args.config)
    catalogues = sorted(args.translations.glob("*/LC_MESSAGES/messages.po"))
    if not catalogues:
        print(f"No catalogues under {args.translations}.", file=sys.stderr)
        return 1
    failed = False
    for po in catalogues:
        language = po.parent.parent.name
        problems = problems_in(po, expected)
        if problems:
            failed = True
            print(f"{language}: {len(problems)} of {len(expected)} messages not translated ({po}):")
            for problem in problems:
                print(f"  {problem}")
        else:
            print(f"{language}: all {len(expected)} messages translated.")
    if failed:
        print("Fill them in (docs/translations.md: `make i18n-update`, then edit the .po).", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
