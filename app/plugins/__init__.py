"""Classifier plugins: the contract (`base`), the built-ins and the registry."""

from app.plugins.base import FER_LABELS, NEGATIVE_LABELS, ClassifierPlugin, PluginUnavailable
from app.plugins.registry import (
    DEFAULT_PLUGIN,
    ENTRY_POINT_GROUP,
    UnknownPlugin,
    allowed_plugins,
    deployment_plugins,
    describe_plugins,
    discover_plugins,
    get_plugin,
)

__all__ = [
    "DEFAULT_PLUGIN",
    "ENTRY_POINT_GROUP",
    "FER_LABELS",
    "NEGATIVE_LABELS",
    "ClassifierPlugin",
    "PluginUnavailable",
    "UnknownPlugin",
    "allowed_plugins",
    "deployment_plugins",
    "describe_plugins",
    "discover_plugins",
    "get_plugin",
]
