"""`flask` sub-commands for operators."""

from flask import Flask


def register(app: Flask) -> None:
    from app.commands.audit import audit_cli
    from app.commands.backup import backup_cli
    from app.commands.demo import demo_cli
    from app.commands.evidence import evidence_cli, train_severity_command
    from app.commands.keys import keys_cli
    from app.commands.migrations import migrations_cli
    from app.commands.ml import ml_cli
    from app.commands.plugins import plugins_cli
    from app.commands.screenings import screenings_cli
    from app.commands.serve import serve_command
    from app.commands.users import users_cli
    from app.commands.worker import ping_worker_command, worker_command

    for command in (audit_cli, plugins_cli, users_cli, demo_cli, worker_command, ping_worker_command,
                    serve_command, ml_cli, keys_cli, backup_cli, screenings_cli, evidence_cli,
                    migrations_cli):
        app.cli.add_command(command)
    ml_cli.add_command(train_severity_command)
