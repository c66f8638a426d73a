"""Which classifier plugins exist: built-ins plus those installed packages declare.

A third-party package adds a plugin by declaring, in its metadata,

    [project.entry-points."moodlens.classifiers"]
    my-model = "my_package.plugin:MyPlugin"

where `MyPlugin` subclasses `app.plugins.base.ClassifierPlugin`.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from collections.abc import Mapping
from pathlib import Path

from flask import Flask, current_app

from app.plugins.base import KERAS, ClassifierPlugin, PluginUnavailable
from app.plugins.builtin import BUILTIN_PLUGINS, DEFAULT_PLUGIN

ENTRY_POINT_GROUP = "moodlens.classifiers"
log = logging.getLogger(__name__)

_registered: dict[str, type[ClassifierPlugin]] = {}
_instances: dict[tuple[str, Path, str], ClassifierPlugin] = {}
_lock = threading.Lock()


class UnknownPlugin(KeyError):
    """No plugin of that name is installed (or the deployment does not allow it)."""


def register(plugin_class: type[ClassifierPlugin]) -> type[ClassifierPlugin]:
    """Register a plugin class by its `name` (usable as a class decorator)."""
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, ClassifierPlugin)):
        raise TypeError(f"{plugin_class!r} is not a ClassifierPlugin subclass")
    existing = _registered.get(plugin_class.name)
    if existing is not None and existing is not plugin_class:
        raise ValueError(f"A different plugin is already registered as {plugin_class.name!r}")
    _registered[plugin_class.name] = plugin_class
    return plugin_class


for _builtin in BUILTIN_PLUGINS:
    register(_builtin)


def _discover_entry_points() -> None:
    # A broken third-party plugin is logged and skipped instead of breaking the app.
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in _registered:
            continue
        try:
            plugin_class = entry_point.load()
            if plugin_class.name != entry_point.name:
                raise ValueError(
                    f"entry point name {entry_point.name!r} differs from plugin name {plugin_class.name!r}"
                )
            register(plugin_class)
        except Exception:
            log.exception(
                "Skipping classifier plugin %r from entry point %s", entry_point.name, entry_point.value
            )


def allowed_plugins(config: Mapping) -> set[str] | None:
    """The deployment's ALLOWED_PLUGINS as a set, None when it allows every plugin: the one
    reading of that setting, for the admin page, the CLI, readiness and the workers."""
    allowed = config.get("ALLOWED_PLUGINS")
    return set(allowed) if allowed else None


def register_plugins(app: Flask) -> None:
    """Find the deployment's plugins once, as the app starts (like CTFd's `init_plugins`): the
    built-ins and installed entry points, narrowed by ALLOWED_PLUGINS. The app's pages, services
    and jobs read this set (`deployment_plugins`); installing a plugin takes a restart."""
    app.extensions["moodlens_plugins"] = available_plugins(allowed_plugins(app.config))


def deployment_plugins() -> dict[str, type[ClassifierPlugin]]:
    """The plugin classes of the running app, by name, as `register_plugins` found them."""
    return current_app.extensions["moodlens_plugins"]


def available_plugins(allowed: set[str] | None = None) -> dict[str, type[ClassifierPlugin]]:
    """Plugin classes installed in this environment, by name (built-ins first), scanning the
    entry points afresh (the CLI and tests; the running app reads `deployment_plugins`).

    `allowed` is the deployment's ALLOWED_PLUGINS setting (None: all). Whether a plugin
    can run (trained weights present) is `plugin.available()`, see `describe_plugins`.
    """
    _discover_entry_points()
    return {name: cls for name, cls in _registered.items() if allowed is None or name in allowed}


def describe_plugins(models_dir: str | Path, allowed: set[str] | None = None) -> list[dict]:
    """name, version, availability and reason for every plugin, for admin pages and the CLI."""
    rows = []
    for name, cls in available_plugins(allowed).items():
        plugin = cls(models_dir)
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


def get_plugin(
    name: str, models_dir: str | Path, allowed: set[str] | None = None, backend: str = KERAS
) -> ClassifierPlugin:
    """The process-wide loaded instance of a plugin (loaded on first use).

    `backend` is the runtime the deployment prefers (`ML_BACKEND`); a plugin that cannot
    use it serves with its own. Raises `UnknownPlugin` or `PluginUnavailable` (whose
    message says how to train it).
    """
    if allowed is not None and name not in allowed:
        raise UnknownPlugin(name)
    key = (name, Path(models_dir).resolve(), backend)
    with _lock:
        plugin = _instances.get(key)
        if plugin is None:
            classes = available_plugins(allowed)  # scanned only when a plugin is first loaded
            if name not in classes:
                raise UnknownPlugin(name)
            plugin = classes[name](models_dir)
            plugin.prefer_runtime(backend)
            plugin.load()
            _instances[key] = plugin
    return plugin


def forget_loaded_plugins() -> None:
    """Drop cached instances, e.g. after training a new version in the same process."""
    with _lock:
        _instances.clear()


__all__ = [
    "DEFAULT_PLUGIN",
    "ENTRY_POINT_GROUP",
    "PluginUnavailable",
    "UnknownPlugin",
    "allowed_plugins",
    "available_plugins",
    "deployment_plugins",
    "describe_plugins",
    "forget_loaded_plugins",
    "get_plugin",
    "register",
    "register_plugins",
]
