"""`flask users ...`: accounts an operator creates or changes by hand."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from app.services import accounts

users_cli = AppGroup("users", help="Create admins and verify doctors.")


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create-admin")
@click.argument("email")
def create_admin(email: str) -> None:
    """Create an admin (address already confirmed); the password is prompted for, or read from
    standard input."""
    password = _read_password()
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise click.ClickException(f"The password must have at least {minimum} characters.")
    try:
        accounts.create_admin(email, password)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Admin {accounts.normalise_email(email)} created.")


@users_cli.command("verify-doctor")
@click.argument("email")
def verify_doctor(email: str) -> None:
    """Mark a doctor's licence as verified so they can receive patients."""
    try:
        accounts.verify_doctor(email)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Doctor {accounts.normalise_email(email)} verified.")
