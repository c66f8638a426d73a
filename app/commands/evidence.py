"""`flask evidence refresh`: recompute the local validation study now (the worker also runs it
periodically)."""

import click
from flask.cli import AppGroup

from app.extensions import db

evidence_cli = AppGroup("evidence", help="The local validation study of the facial indicator.")


@evidence_cli.command("refresh")
def refresh_command() -> None:
    """Recompute every group's aggregates from the screenings of consenting patients."""
    from app.services import evidence

    snapshots = evidence.refresh()
    db.session.commit()
    if not snapshots:
        click.echo("No completed screenings of patients with research consent yet.")
    for s in snapshots:
        group = (f"{s.plugin_name} {s.plugin_version} / {s.indicator_version} / {s.media_kind} "
                 f"vs {s.reference}")
        if s.validated:
            auc = s.figures["auc"]
            click.echo(f"{group}: AUC {auc['estimate']:.2f} (95 % CI {auc['low']:.2f}–{auc['high']:.2f}), "
                       f"n = {s.n_positive} + {s.n_negative}")
        else:
            click.echo(f"{group}: not validated yet ({s.n_positive} positive, {s.n_negative} negative; "
                       f"{s.min_n} of each needed)")


@evidence_cli.command("export")
@click.argument("destination", type=click.Path(dir_okay=False, writable=True))
def export_command(destination: str) -> None:
    """Write the de-identified research data set (consenting patients only) as CSV to DESTINATION."""
    from app.services import research_export

    text, rows = research_export.export_csv()
    with open(destination, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    click.echo(f"Wrote {rows} screenings of consenting patients to {destination} "
               "(pseudonymous ids, dates shifted per patient; no names or e-mail addresses).")
