"""`flask plugins ...`: the admin page's plugin switches, for operators."""

import functools

import click
from flask.cli import AppGroup

from app.services import plugin_settings

plugins_cli = AppGroup(
    "plugins", help="List classifier plugins, enable/disable them, choose the default and serving versions.")


@plugins_cli.command("list")
def list_command() -> None:
    """Every plugin in this deployment: availability, switch, default, version (the serving one)."""
    for plugin in plugin_settings.list_plugins():
        if not plugin.available:
            state = "unavailable"
        else:
            state = "enabled" if plugin.enabled else "disabled"
        marker = "*" if plugin.is_default else " "
        click.echo(f"{marker} {plugin.name:<28} {state:<12} {plugin.version or '-'}")
        if not plugin.available:
            click.echo(f"    {plugin.unavailable_reason}")
    click.echo("(* = default for new screenings)")


def _change(change, name: str, done: str) -> None:
    try:
        change(name)
    except plugin_settings.PluginSettingError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{done} New screenings use {plugin_settings.default_plugin_name()}.")


@plugins_cli.command("enable")
@click.argument("name")
def enable_command(name: str) -> None:
    """Allow new screenings to use NAME."""
    _change(plugin_settings.enable, name, f"{name} enabled.")


@plugins_cli.command("disable")
@click.argument("name")
def disable_command(name: str) -> None:
    """Stop new screenings from using NAME (at least one plugin stays enabled)."""
    _change(plugin_settings.disable, name, f"{name} disabled.")


@plugins_cli.command("set-default")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Confirm a model whose test accuracy is low or unknown.")
def set_default_command(name: str, yes: bool) -> None:
    """Make NAME the plugin new screenings use."""
    change = functools.partial(plugin_settings.set_default, confirmed=yes)
    _change(change, name, f"{name} is now the default.")


@plugins_cli.command("serve")
@click.argument("name")
@click.argument("version")
@click.option("--yes", is_flag=True, help="Confirm without being shown the version's test numbers first.")
def serve_command(name: str, version: str, yes: bool) -> None:
    """Make VERSION of the trained plugin NAME the one new screenings use."""
    try:
        plugin_settings.set_serving_version(name, version, confirmed=yes)
    except plugin_settings.ConfirmationRequired as question:
        raise click.ClickException(f"{question} Run again with --yes to confirm.") from question
    except plugin_settings.PluginSettingError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{name} {version} now serves new screenings with {name}.")
