"""`flask` sub-commands for operators."""

from flask import Flask


def register(app: Flask) -> None:
    from app.commands.audit import audit_cli
    from app.commands.backup import backup_cli
    from app.commands.demo import demo_cli
    from app.commands.evidence import evidence_cli, train_severity_command
    from app.commands.keys import keys_cli
    from app.commands.ml import ml_cli
    from app.commands.plugins import plugins_cli
    from app.commands.screenings import screenings_cli
    from app.commands.serve import serve_command
    from app.commands.users import users_cli
    from app.commands.worker import ping_worker_command, worker_command

    app.cli.add_command(audit_cli)
    app.cli.add_command(plugins_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(ping_worker_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(ml_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(screenings_cli)
    app.cli.add_command(evidence_cli)
    ml_cli.add_command(train_severity_command)
