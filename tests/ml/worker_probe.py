"""A job the worker tests enqueue to look inside the worker process."""

import sys


def imported_modules(names: list[str]) -> dict[str, bool]:
    return {name: name in sys.modules for name in names}
