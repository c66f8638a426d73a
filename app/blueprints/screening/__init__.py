from flask import Blueprint

from app.commands.screenings import requeue_command

# cli_group: the blueprint's commands are `flask screenings ...`.
bp = Blueprint("screening", __name__, cli_group="screenings")
bp.cli.add_command(requeue_command)

from app.blueprints.screening import routes, stream  # noqa: E402,F401
