"""`flask keys generate`: fresh values for every secret a production deployment needs."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.security import production_secrets

keys_cli = AppGroup("keys", help="The secrets a production deployment needs.")


@keys_cli.command("generate")
def generate_command() -> None:
    """Print NAME=value lines (a shell or systemd EnvironmentFile) with new random secrets.

    Run it once per deployment and keep the output secret and backed up: media encrypted with
    one MEDIA_ENCRYPTION_KEY cannot be read with another.
    """
    click.echo("# MoodLens production secrets: the same values on every web node and worker.")
    for secret in production_secrets.applicable(current_app.config):
        click.echo(f"{secret.name}={secret.generate()}")
