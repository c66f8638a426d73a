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


@click.command("train-severity")
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True)
@click.option("--alpha", type=click.FloatRange(0, min_open=True), default=1.0, show_default=True,
              help="Ridge penalty.")
def train_severity_command(folds: int, alpha: float) -> None:
    """Fit the face-based PHQ-9 severity estimate on consenting patients; report its CV errors."""
    from app.ml.severity import AVEC2014_VIDEO
    from app.services import severity

    try:
        stored = severity.train(folds=folds, alpha=alpha)
    except severity.SeverityError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Trained on {stored['n']} patients ({folds}-fold cross-validation):")
    click.echo(f"  MAE {stored['cv_mae']:.2f}, RMSE {stored['cv_rmse']:.2f} PHQ-9 points, on a 0-27 scale.")
    click.echo(f"  For comparison only, AVEC 2014 video results: RMSE ≈ {AVEC2014_VIDEO['rmse']}, "
               f"MAE ≈ {AVEC2014_VIDEO['mae']} on {AVEC2014_VIDEO['instrument']}, a different instrument.")
    if stored["validated"]:
        click.echo("Validated: doctors now see the estimate with its error bar.")
    else:
        click.echo("Not validated (too few patients or too large an error): doctors do not see it.")
