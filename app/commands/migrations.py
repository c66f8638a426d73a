"""`flask db …`: Flask-Migrate's commands, loaded only when one of them runs.

Importing Flask-Migrate imports Alembic, about 0.3 s; web and worker processes never migrate,
so they no longer pay for it at start. `flask db` takes Flask-Migrate's two group options and
hands them to its group; every sub-command, with its options, is Flask-Migrate's own.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import ScriptInfo


class _MigrationCommands(click.Group):
    def flask_migrate(self, ctx: click.Context) -> click.Group:
        """Flask-Migrate's `db` group, bound to the app on first use."""
        from flask_migrate import Migrate
        from flask_migrate.cli import db as commands

        from app.extensions import db

        app = ctx.ensure_object(ScriptInfo).load_app()
        if "migrate" not in app.extensions:
            Migrate(app, db, directory=str(Path(app.root_path).parent / "migrations"))
        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self.flask_migrate(ctx).list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self.flask_migrate(ctx).get_command(ctx, name)


@click.group("db", cls=_MigrationCommands)
@click.option("-d", "--directory", default=None, help='Migration script directory (default is "migrations")')
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts")
@click.pass_context
def migrations_cli(ctx: click.Context, directory: str | None, x_arg: tuple[str, ...]) -> None:
    """Database migrations (Flask-Migrate and Alembic)."""
    ctx.invoke(ctx.command.flask_migrate(ctx).callback, directory=directory, x_arg=x_arg)
