"""The admin's choice of classifier plugins, as stored in the database."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.plugin_setting import PluginSetting
from app.plugins.registry import DEFAULT_PLUGIN


def default_plugin_name() -> str:
    """The plugin new screenings use: the admin's default, or the built-in default."""
    chosen = db.session.scalar(
        select(PluginSetting.name).where(PluginSetting.is_default, PluginSetting.enabled))
    return chosen or DEFAULT_PLUGIN
