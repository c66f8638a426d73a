"""The admin's choice of classifier plugins, as stored in the database.

Which plugins *exist* is the registry's business (built-ins, entry points, narrowed by the
deployment's ALLOWED_PLUGINS). Which of them are *enabled*, and which is the *default* for new
screenings, is stored here in `plugin_settings`. A plugin without a row is disabled, except the
shipped pretrained default: a newly trained or installed model waits for an admin to look at its
model card and switch it on. Making a model whose test accuracy is low (or unknown) the default
asks for an explicit confirmation that names its numbers.

A trained (versioned) plugin serves the version an admin chose (`set_serving_version`, audited,
confirmed knowing its test numbers), never simply the newest folder: a version trained later waits
until it is chosen. Without a choice the plugin cannot serve.

Switches are read per call, so a change applies to the very next screening in every web and
worker process without a restart (loaded models stay cached in the registry, per version).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import select

from app.extensions import db
from app.models.plugin_setting import PluginSetting
from app.plugins.base import ClassifierPlugin, PluginUnavailable
from app.plugins.registry import DEFAULT_PLUGIN, deployment_plugins, instantiate
from app.security import audit
from app.services.errors import ServiceError


class PluginSettingError(ServiceError):
    """An admin change that cannot be made."""

    status = 409


class UnknownPluginError(PluginSettingError):
    status = 404


class ConfirmationRequired(PluginSettingError):
    """The change is allowed, but only once the admin confirms it knowing the numbers."""


class UnknownVersionError(PluginSettingError):
    status = 404


@dataclass
class PluginStatus:
    """One plugin as the admin page and `flask plugins list` show it."""

    name: str
    description: str
    version: str | None
    available: bool
    unavailable_reason: str | None
    enabled: bool  # the admin's switch (unavailable plugins can't be switched)
    is_default: bool
    versioned: bool = False  # a trained plugin: `version` is the serving version an admin chose
    labels: list[str] = field(default_factory=list)
    input_shape: list[int] = field(default_factory=list)
    card: dict = field(default_factory=dict)
    has_confusion_image: bool = False

    @property
    def usable(self) -> bool:
        """Enabled and able to run: may be used (and chosen as default) for new screenings."""
        return self.enabled and self.available

    @property
    def input_size(self) -> str:
        return "×".join(str(d) for d in self.input_shape)


def _enabled(name: str, setting: PluginSetting | None) -> bool:
    return setting.enabled if setting is not None else name == DEFAULT_PLUGIN


def test_accuracy(card: dict) -> float | None:
    """Accuracy on the model's own test split (trainer or `flask ml evaluate`), else the
    published figure of a pretrained model; None when nothing says."""
    for source in (card.get("evaluation"), card.get("test_metrics"), card.get("published_accuracy")):
        if isinstance(source, dict):
            value = source.get("accuracy", source.get("value"))
            if isinstance(value, int | float):
                return float(value)
    return None


def _settings() -> dict[str, PluginSetting]:
    return {row.name: row for row in db.session.scalars(select(PluginSetting))}


def _not_chosen(name: str) -> str:
    return gettext("No version of %(name)s has been chosen to serve yet: open one of its versions under "
                   "Models & training and choose “Serve this version”.", name=name)


def _chosen(plugin_class, setting: PluginSetting | None) -> bool:
    """Whether what serves is settled: a plugin without versions, or a trained one with a choice."""
    return not plugin_class.versioned or (setting is not None and setting.serving_version is not None)


def _serving_instance(name: str, plugin_class, setting: PluginSetting | None
                      ) -> tuple[ClassifierPlugin, str | None]:
    """An unloaded instance of what serves for `name`, and why it cannot serve (None: it can)."""
    version = setting.serving_version if setting is not None else None
    plugin = instantiate(plugin_class, current_app.config["ML_MODELS_DIR"],
                         version if plugin_class.versioned else None)
    if not _chosen(plugin_class, setting):
        return plugin, plugin.unavailable_reason() or _not_chosen(name)
    return plugin, plugin.unavailable_reason()


def _status(name: str, plugin_class, setting: PluginSetting | None) -> PluginStatus:
    plugin, reason = _serving_instance(name, plugin_class, setting)
    chosen = _chosen(plugin_class, setting)
    try:
        card = plugin.model_card() if chosen else {"name": name, "description": plugin_class.description}
    except Exception as error:  # a third-party plugin's broken card must not break the page
        card = {"error": gettext("The model card could not be read: %(error)s", error=error)}
    folder = plugin.weights_dir() if chosen else None
    return PluginStatus(
        name=name,
        description=plugin_class.description,
        version=plugin.version if chosen else None,
        available=reason is None,
        unavailable_reason=reason,
        enabled=_enabled(name, setting),
        is_default=False,
        versioned=plugin_class.versioned,
        labels=list(plugin.labels),
        input_shape=list(plugin.input_shape),
        card=card,
        has_confusion_image=bool(folder and folder.is_dir() and any(folder.glob("confusion*.png"))),
    )


def _choose_default(usable: list[str], settings: dict[str, PluginSetting]) -> str | None:
    """The one default rule: the admin's default while it is usable (enabled and able to run),
    else the shipped default, else the first usable plugin; None when no plugin is usable."""
    for name in usable:
        if settings.get(name) is not None and settings[name].is_default:
            return name
    if DEFAULT_PLUGIN in usable:
        return DEFAULT_PLUGIN
    return usable[0] if usable else None


def list_plugins() -> list[PluginStatus]:
    """Every plugin that exists in this deployment, with availability, switch and default."""
    settings = _settings()
    classes = deployment_plugins()
    statuses = [_status(name, cls, settings.get(name)) for name, cls in classes.items()]
    default = _choose_default([status.name for status in statuses if status.usable], settings)
    for status in statuses:
        status.is_default = status.name == default
    return statuses


def default_plugin_name() -> str:
    """The plugin new screenings use (`_choose_default`); the shipped default when none is usable,
    so the screening fails with the reason the patient can read rather than the submission."""
    settings = _settings()
    usable = [name for name, plugin_class in deployment_plugins().items()
              if _enabled(name, settings.get(name))
              and _serving_instance(name, plugin_class, settings.get(name))[1] is None]
    return _choose_default(usable, settings) or DEFAULT_PLUGIN


def serving_problem(name: str) -> str | None:
    """Why `name` cannot serve the next screening as configured (its chosen version, not merely its
    newest folder); None when it can. Loads no model."""
    plugin_class = deployment_plugins().get(name)
    if plugin_class is None:
        return gettext("%(name)s is not installed in this deployment.", name=name)
    return _serving_instance(name, plugin_class, _settings().get(name))[1]


def _find(name: str) -> tuple[list[PluginStatus], PluginStatus]:
    statuses = list_plugins()
    for status in statuses:
        if status.name == name:
            return statuses, status
    raise UnknownPluginError(gettext("There is no classifier plugin called '%(name)s' in this deployment.",
                                     name=name))


def _row(name: str) -> PluginSetting:
    row = db.session.get(PluginSetting, name)
    if row is None:
        row = PluginSetting(name=name, enabled=_enabled(name, None), is_default=False)
        db.session.add(row)
    return row


def _make_default(name: str, actor_id: int | None) -> None:
    for row in db.session.scalars(select(PluginSetting).where(PluginSetting.is_default)):
        if row.name != name:
            row.is_default = False
            row.updated_by_id = actor_id
    row = _row(name)
    row.is_default = True
    row.updated_by_id = actor_id


def enable(name: str, actor_id: int | None = None) -> PluginStatus:
    _, status = _find(name)
    if not status.available:
        raise PluginSettingError(gettext("%(name)s cannot be enabled: %(reason)s", name=name,
                                         reason=status.unavailable_reason))
    if status.enabled:
        raise PluginSettingError(gettext("%(name)s is already enabled.", name=name))
    row = _row(name)
    row.enabled = True
    row.updated_by_id = actor_id
    audit.record("plugin.enable", actor_id=actor_id, target=f"plugin:{name}")
    db.session.commit()
    return _find(name)[1]


def disable(name: str, actor_id: int | None = None) -> PluginStatus:
    """Disable a plugin; if it was the default, the first other usable plugin takes over."""
    statuses, status = _find(name)
    if not status.available:
        raise PluginSettingError(gettext(
            "%(name)s is unavailable, so there is nothing to disable: %(reason)s",
            name=name, reason=status.unavailable_reason))
    if not status.enabled:
        raise PluginSettingError(gettext("%(name)s is already disabled.", name=name))
    others = [other.name for other in statuses if other.usable and other.name != name]
    if not others:
        raise PluginSettingError(gettext(
            "%(name)s is the last enabled plugin; at least one must stay enabled.", name=name))
    row = _row(name)
    row.enabled = False
    row.updated_by_id = actor_id
    details: dict = {}
    if status.is_default:
        row.is_default = False
        successor = DEFAULT_PLUGIN if DEFAULT_PLUGIN in others else others[0]
        _make_default(successor, actor_id)
        details["new_default"] = successor
    audit.record("plugin.disable", actor_id=actor_id, target=f"plugin:{name}", details=details)
    db.session.commit()
    return _find(name)[1]


def set_default(name: str, actor_id: int | None = None, confirmed: bool = False) -> PluginStatus:
    statuses, status = _find(name)
    if not status.available:
        raise PluginSettingError(gettext("%(name)s cannot be the default: %(reason)s", name=name,
                                         reason=status.unavailable_reason))
    if not status.enabled:
        raise PluginSettingError(gettext("%(name)s is disabled; enable it before making it the default.",
                                         name=name))
    if status.is_default:
        raise PluginSettingError(gettext("%(name)s is already the default.", name=name))
    accuracy = test_accuracy(status.card)
    floor = current_app.config["PLUGIN_DEFAULT_MIN_ACCURACY"]
    if not confirmed and (accuracy is None or accuracy < floor):
        measured = (gettext("%(name)s has no recorded test accuracy", name=name) if accuracy is None
                    else gettext("%(name)s scored %(accuracy)s accuracy on its test split",
                                 name=name, accuracy=format(accuracy, ".1%")))
        raise ConfirmationRequired(gettext(
            "%(measured)s; this deployment expects at least %(floor)s of a default model. "
            "Every new screening would use it. Confirm to make it the default anyway.",
            measured=measured, floor=format(floor, ".0%")))
    previous = next((other.name for other in statuses if other.is_default), None)
    _make_default(name, actor_id)
    audit.record("plugin.set_default", actor_id=actor_id, target=f"plugin:{name}",
                 details={"previous": previous, "test_accuracy": accuracy,
                          "confirmed_low_accuracy": confirmed})
    db.session.commit()
    return _find(name)[1]


def serving_versions() -> dict[str, str]:
    """The chosen serving version of every trained plugin that has one."""
    return {name: row.serving_version for name, row in _settings().items() if row.serving_version}


def serving_version(name: str) -> str | None:
    """The version the next screening with `name` loads, read from the database each time (so a
    worker follows the admin's choice without a restart); None for a plugin without versions.
    Raises PluginUnavailable for a trained plugin none of whose versions was chosen."""
    plugin_class = deployment_plugins().get(name)
    if plugin_class is None or not plugin_class.versioned:
        return None
    setting = db.session.get(PluginSetting, name)
    if setting is None or setting.serving_version is None:
        raise PluginUnavailable(_not_chosen(name))
    return setting.serving_version


def test_numbers(card: dict) -> dict:
    """A trained version's accuracy, macro-F1 and test-image count (its latest evaluation first)."""
    for source in (card.get("evaluation"), card.get("test_metrics")):
        if isinstance(source, dict) and isinstance(source.get("accuracy"), int | float):
            return {"accuracy": float(source["accuracy"]), "macro_f1": source.get("macro_f1"),
                    "samples": source.get("samples")}
    return {}


def _serve_question(name: str, version: str, numbers: dict, previous: str | None) -> str:
    """What an admin confirms before a version serves: its test numbers and what it replaces."""
    samples, macro_f1 = numbers["samples"], numbers["macro_f1"]
    images = (ngettext("%(num)d image", "%(num)d images", samples) if samples
              else gettext("an unknown number of images"))
    return gettext(
        "Serve %(name)s %(version)s for every new screening with %(name)s? On its test split (%(images)s) "
        "it scored %(accuracy)s accuracy and a macro-F1 of %(macro_f1)s. Now serving: %(previous)s.",
        name=name, version=version, images=images, accuracy=format(numbers["accuracy"], ".1%"),
        macro_f1=gettext("unknown (not recorded)") if macro_f1 is None else format(macro_f1, ".3f"),
        previous=previous or gettext("no version"))


def set_serving_version(name: str, version: str, actor_id: int | None = None,
                        confirmed: bool = False) -> PluginStatus:
    """Make `version` the one every new screening with `name` uses (from the next job on).

    Refused for a version that is not there, was stopped before it finished, or has no test
    numbers; asks for confirmation (ConfirmationRequired, naming its test accuracy and macro-F1)
    unless `confirmed`.
    """
    plugin_class = deployment_plugins().get(name)
    if plugin_class is None:
        raise UnknownPluginError(gettext(
            "There is no classifier plugin called '%(name)s' in this deployment.", name=name))
    if not plugin_class.versioned:
        raise PluginSettingError(gettext(
            "%(name)s ships its own weights; it has no trained versions to choose among.", name=name))
    missing = gettext("There is no version “%(version)s” of %(name)s.", version=version, name=name)
    try:
        plugin = instantiate(plugin_class, current_app.config["ML_MODELS_DIR"], version)
    except ValueError as error:
        raise UnknownVersionError(missing) from error
    if plugin.weights_dir() is None:
        raise UnknownVersionError(missing)
    card = plugin.model_card()
    if card.get("training", {}).get("stopped_early_by_admin"):
        raise PluginSettingError(gettext(
            "%(name)s %(version)s was stopped before it finished training and cannot serve screenings; "
            "train a complete version instead.", name=name, version=version))
    numbers = test_numbers(card)
    if not numbers:
        raise PluginSettingError(gettext(
            "%(name)s %(version)s has no test results (its training did not finish), "
            "so it cannot serve screenings.", name=name, version=version))
    existing = db.session.get(PluginSetting, name)
    previous = existing.serving_version if existing is not None else None
    if previous == version:
        raise PluginSettingError(gettext("%(name)s %(version)s is already the serving version.",
                                         name=name, version=version))
    if not confirmed:
        raise ConfirmationRequired(_serve_question(name, version, numbers, previous))
    row = _row(name)
    row.serving_version = version
    row.updated_by_id = actor_id
    audit.record("plugin.serve_version", actor_id=actor_id, target=f"plugin:{name}",
                 details={"version": version, "previous": previous, "test_accuracy": numbers["accuracy"],
                          "macro_f1": numbers["macro_f1"]})
    db.session.commit()
    return _find(name)[1]


def confusion_matrix_file(name: str):
    """The confusion-matrix PNG the trainer or evaluator left beside the serving weights, if any."""
    classes = deployment_plugins()
    if name not in classes:
        return None
    setting = db.session.get(PluginSetting, name)
    plugin, _ = _serving_instance(name, classes[name], setting)
    folder = plugin.weights_dir() if _chosen(classes[name], setting) else None
    if folder is None or not folder.is_dir():
        return None
    images = sorted(folder.glob("confusion*.png"))
    return images[0] if images else None
