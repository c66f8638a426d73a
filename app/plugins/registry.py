"""Which classifier plugins exist: built-ins plus those installed packages declare.

A third-party package adds a plugin by declaring, in its metadata,

    [project.entry-points."moodlens.classifiers"]
    my-model = "my_package.plugin:MyPlugin"

where `MyPlugin` subclasses `app.plugins.base.ClassifierPlugin`. The environment is scanned
once, by `register_plugins(app)` as the app starts (like CTFd's `init_plugins`); pages, services,
jobs and the CLI read the app's set through `deployment_plugins`. Installing a plugin takes a restart.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
import threading
from collections.abc import Mapping
from pathlib import Path

from flask import Flask, current_app, has_app_context

from app.plugins.base import KERAS, ClassifierPlugin, PluginUnavailable
from app.plugins.builtin import BUILTIN_PLUGINS, DEFAULT_PLUGIN

ENTRY_POINT_GROUP = "moodlens.classifiers"
EXTENSION = "moodlens_plugins"
# Version folders are UTC timestamps written by the trainer; nothing else names one.
VERSION_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
log = logging.getLogger(__name__)

_instances: dict[tuple[str, Path, str, str | None], ClassifierPlugin] = {}
_lock = threading.Lock()


class UnknownPlugin(KeyError):
    """No plugin of that name is installed (or the deployment does not allow it)."""


def _checked(plugin_class, name: str) -> type[ClassifierPlugin]:
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, ClassifierPlugin)):
        raise TypeError(f"{plugin_class!r} is not a ClassifierPlugin subclass")
    if plugin_class.name != name:
        raise ValueError(f"entry point name {name!r} differs from plugin name {plugin_class.name!r}")
    return plugin_class


def discover_plugins() -> dict[str, type[ClassifierPlugin]]:
    """Scan this environment: the built-ins first, then installed entry points.

    A broken third-party plugin, or one reusing a taken name, is logged and skipped instead of
    breaking the app.
    """
    found: dict[str, type[ClassifierPlugin]] = {cls.name: cls for cls in BUILTIN_PLUGINS}
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in found:
            log.warning("Skipping classifier plugin %r from %s: the name is taken",
                        entry_point.name, entry_point.value)
            continue
        try:
            found[entry_point.name] = _checked(entry_point.load(), entry_point.name)
        except Exception:
            log.exception(
                "Skipping classifier plugin %r from entry point %s", entry_point.name, entry_point.value
            )
    return found


def allowed_plugins(config: Mapping) -> set[str] | None:
    """The deployment's ALLOWED_PLUGINS as a set, None when it allows every plugin: the one
    reading of that setting."""
    allowed = config.get("ALLOWED_PLUGINS")
    return set(allowed) if allowed else None


def register_plugins(app: Flask) -> None:
    """Find the deployment's plugins once, as the app starts: the built-ins and installed entry
    points, narrowed by ALLOWED_PLUGINS."""
    allowed = allowed_plugins(app.config)
    app.extensions[EXTENSION] = {name: cls for name, cls in discover_plugins().items()
                                 if allowed is None or name in allowed}


def deployment_plugins() -> dict[str, type[ClassifierPlugin]]:
    """The plugin classes of the running app, by name, as `register_plugins` found them; without
    an app (a benchmark, a unit test), the built-ins."""
    if has_app_context():
        return current_app.extensions[EXTENSION]
    return {cls.name: cls for cls in BUILTIN_PLUGINS}


def instantiate(plugin_class: type[ClassifierPlugin], models_dir: str | Path,
                version: str | None = None) -> ClassifierPlugin:
    """An unloaded instance; `version` picks one of a versioned plugin's folders (None: the newest).

    Raises ValueError for a version that cannot be a folder name, or for a plugin without versions.
    """
    if version is None:
        return plugin_class(models_dir)
    if not plugin_class.versioned:
        raise ValueError(f"{plugin_class.name} has no versions to choose among")
    if not VERSION_NAME.fullmatch(version):
        raise ValueError(f"{version!r} is not a model version")
    return plugin_class(models_dir, version=version)


def describe_plugins(models_dir: str | Path, versions: Mapping[str, str] | None = None) -> list[dict]:
    """name, version, availability and reason for every plugin of the app, for the CLI.

    `versions` are the serving versions chosen for versioned plugins (None: the newest on disk).
    """
    rows = []
    for name, cls in deployment_plugins().items():
        plugin = instantiate(cls, models_dir, (versions or {}).get(name))
        rows.append(
            {
                "name": name,
                "description": cls.description,
                "version": plugin.version,
                "available": plugin.available(),
                "unavailable_reason": plugin.unavailable_reason(),
                "default": name == DEFAULT_PLUGIN,
            }
        )
    return rows


def get_plugin(name: str, models_dir: str | Path, backend: str = KERAS,
               version: str | None = None) -> ClassifierPlugin:
    """The process-wide loaded instance of one of the app's plugins (loaded on first use).

    Instances are cached by plugin, folder, runtime and `version` (a versioned plugin's folder,
    None: the newest on disk), so choosing another serving version loads it on the next job
    without a restart. `backend` is the runtime the deployment prefers (`ML_BACKEND`); a plugin
    that cannot use it serves with its own. Raises `UnknownPlugin` or `PluginUnavailable` (whose
    message says how to train it).
    """
    classes = deployment_plugins()
    if name not in classes:
        raise UnknownPlugin(name)
    folder = Path(models_dir).resolve()
    key = (name, folder, backend, version)
    with _lock:
        plugin = _instances.get(key)
        if plugin is None:
            try:
                plugin = instantiate(classes[name], models_dir, version)
            except ValueError as error:
                raise PluginUnavailable(str(error)) from error
            plugin.prefer_runtime(backend)
            plugin.load()
            # The version it replaces is no longer served: let it go once its last job ends.
            for other in [k for k in _instances if k[:3] == key[:3]]:
                del _instances[other]
            _instances[key] = plugin
    return plugin


def forget_loaded_plugins() -> None:
    """Drop cached instances, e.g. after training a new version in the same process."""
    with _lock:
        _instances.clear()

