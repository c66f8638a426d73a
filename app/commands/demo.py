"""`flask demo seed`: demo accounts for trying MoodLens locally. Refused in production."""

import secrets

import click
from flask import current_app
from flask.cli import AppGroup

from app.services import accounts

demo_cli = AppGroup("demo", help="Demo data for local trials.")

DEMO_PATIENT = "patient@demo.moodlens.local"
DEMO_DOCTOR = "doctor@demo.moodlens.local"
DEMO_ADMIN = "admin@demo.moodlens.local"


@demo_cli.command("seed")
@click.option("--cohort", type=click.IntRange(1, 10_000), default=None,
              help="Also create this many SIMULATED patients (research consent, one screening each) "
                   "for the local validation study.")
@click.option("--separation", type=click.FloatRange(0, 5), default=1.0, show_default=True,
              help="How many standard deviations the simulated indicator rises with PHQ-9 >= 10.")
def seed(cohort: int | None, separation: float) -> None:
    """Create a verified doctor, a patient and an admin (addresses already confirmed); print their
    one-time passwords."""
    if not current_app.config["DEMO_SEED_ALLOWED"]:
        raise click.ClickException("Demo accounts are never created with the production configuration.")
    if cohort is not None:
        from app.services import simulated_cohort
        from app.services.plugin_settings import default_plugin_name

        created = simulated_cohort.seed(cohort, default_plugin_name(), separation)
        click.echo(f"Simulated cohort: {created.patients} simulated patients, true AUC "
                   f"{created.true_auc:.3f} (labelled as simulated wherever they show).")
    if accounts.find_user(DEMO_PATIENT) is not None:
        click.echo("Demo accounts exist already; their passwords were printed when they were created.")
        return
    created = []
    password = secrets.token_urlsafe(12)
    accounts.register_patient(DEMO_PATIENT, password, "Alex Demo", None, verified=True)
    created.append(("patient", DEMO_PATIENT, password))
    password = secrets.token_urlsafe(12)
    accounts.register_doctor(DEMO_DOCTOR, password, "Sam Rivera", "DEMO-0001", "Psychiatry", "en,es",
                             verified=True)
    accounts.verify_doctor(DEMO_DOCTOR)
    created.append(("doctor", DEMO_DOCTOR, password))
    password = secrets.token_urlsafe(12)
    accounts.create_admin(DEMO_ADMIN, password)
    created.append(("admin", DEMO_ADMIN, password))
    click.echo("Demo accounts (passwords are shown only this once):")
    for role, email, secret in created:
        click.echo(f"  {role:<8} {email:<32} {secret}")
