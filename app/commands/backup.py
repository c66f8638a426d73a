"""`flask backup create PATH` / `flask backup restore PATH` (see app/services/backups.py)."""

from pathlib import Path

import click
from flask.cli import AppGroup

from app.security.media_crypto import MediaDecryptionError
from app.services import backups

backup_cli = AppGroup("backup", help="Back up and restore the database, media and keys.")


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def create_command(path: Path) -> None:
    """Write a backup archive to PATH (it holds the keys: keep it as secret as they are)."""
    try:
        summary = backups.create(path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {summary.path}: {summary.database} database, "
               f"{summary.media_files} media files, keys {', '.join(summary.keys)}.")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database and media with the backup at PATH, then verify them.

    Stop the web nodes and workers first: the database is replaced underneath them.
    """
    if not yes:
        click.confirm("This replaces the current database and media. Continue?", abort=True)
    try:
        summary = backups.restore(path)
    except (backups.BackupError, MediaDecryptionError) as error:
        raise click.ClickException(str(error)) from error
    for note in summary.notes:
        click.echo(f"  {note}")
    click.echo(f"Restored the {summary.database} database and {summary.media_files} media files; "
               f"audit chain intact ({summary.audit_events} events); "
               f"{summary.media_checked} media files decrypted as a check.")
