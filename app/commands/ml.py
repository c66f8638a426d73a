"""`flask ml ...`: train, evaluate and try the classifiers. Thin glue over app.ml / app.plugins.

Each command imports its ML modules inside itself, deliberately: they load TensorFlow (or
matplotlib), and every other `flask` command must start without them.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.plugins.registry import deployment_plugins

ml_cli = AppGroup("ml", help="Face-analysis models: train, evaluate, predict.")
DATA_OPTION = click.option("--data", "data_dir", required=True, type=click.Path(exists=True, path_type=Path),
                           help="FER2013 folder or CSV.")


def _settings() -> tuple[Path, int]:
    config = current_app.config
    models_dir = Path(config.get("ML_MODELS_DIR") or Path(current_app.root_path).parent / "ml_models")
    return models_dir, int(config["FACE_MAX_SIDE"])


def _plugin_class(name: str):
    classes = deployment_plugins()
    if name not in classes:
        raise click.BadParameter(
            f"unknown plugin {name!r}; installed: {', '.join(classes)}", param_hint="PLUGIN"
        )
    return classes[name]


@ml_cli.command("plugins")
def plugins_command() -> None:
    """List installed plugins and whether they can run."""
    from app.plugins import describe_plugins
    from app.services.plugin_settings import serving_versions

    models_dir, _ = _settings()
    for row in describe_plugins(models_dir, serving_versions()):
        state = "available" if row["available"] else f"unavailable: {row['unavailable_reason']}"
        click.echo(f"{row['name']:<24} {row['version'] or '-':<18} {state}")


# The data set option of every command that reads FER2013.
fer2013_data = click.option("--data", "data_dir", required=True, type=click.Path(exists=True, path_type=Path),
                            help="FER2013 folder or CSV.")


@ml_cli.command("train")
@click.argument("plugin")
@fer2013_data
@click.option("--epochs", default=30, show_default=True)
@click.option("--batch-size", default=64, show_default=True)
@click.option("--seed", default=1234, show_default=True)
@click.option("--learning-rate", type=float, default=None, help="Default: the plugin's own.")
@click.option("--input-size", type=int, default=None, help="Square input side (default: the plugin's).")
@click.option("--augment/--no-augment", default=True, show_default=True,
              help="Random flips, rotations, zooms and shifts of the training images.")
@click.option(
    "--imagenet-weights",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Local ResNet50V2 no-top ImageNet weights (.h5); nothing is downloaded.",
)
def train_command(
    plugin, data_dir, epochs, batch_size, seed, learning_rate, input_size, augment, imagenet_weights
) -> None:
    """Train PLUGIN on FER2013 into ML_MODELS_DIR/PLUGIN/VERSION/.

    The same trainer as the admin console's "Train a model" (which adds live progress and Stop).
    """
    from app.ml.training.datasets import DatasetError
    from app.ml.training.trainer import TrainingOptions, train_plugin
    from app.plugins.keras_plugin import TrainableKerasPlugin

    models_dir, _ = _settings()
    plugin_class = _plugin_class(plugin)
    if not issubclass(plugin_class, TrainableKerasPlugin):
        raise click.UsageError(
            f"{plugin} is pretrained and cannot be trained here; try `flask ml evaluate {plugin}`."
        )
    if imagenet_weights is not None and plugin != "resnet50v2":
        raise click.UsageError("--imagenet-weights only applies to resnet50v2")
    options = TrainingOptions(
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        learning_rate=learning_rate,
        input_size=input_size,
        augment=augment,
        imagenet_weights=imagenet_weights,
    )
    try:
        out_dir = train_plugin(plugin_class, data_dir, models_dir, options)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from exc
    card = json.loads((out_dir / "model_card.json").read_text())
    metrics = card["test_metrics"]
    click.echo(
        f"Saved {out_dir} — test accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}. "
        f"It serves screenings once chosen: flask plugins serve {plugin} {out_dir.name}"
    )


@ml_cli.command("evaluate")
@click.argument("plugin")
@fer2013_data
@click.option("--version", "version", default=None,
              help="A trained plugin's version (default: the serving one, else the newest).")
def evaluate_command(plugin, data_dir, version) -> None:
    """Evaluate PLUGIN on the test split; files go next to its model card."""
    from app.ml.training.datasets import DatasetError, load_fer2013
    from app.ml.training.evaluation import evaluate_plugin
    from app.plugins import PluginUnavailable, get_plugin
    from app.services.plugin_settings import serving_versions

    models_dir, _ = _settings()
    _plugin_class(plugin)
    try:
        instance = get_plugin(plugin, models_dir, version=version or serving_versions().get(plugin))
        _, test = load_fer2013(data_dir)
    except (PluginUnavailable, DatasetError) as exc:
        raise click.ClickException(str(exc)) from exc
    metrics = evaluate_plugin(instance, test, instance.weights_dir())
    click.echo(
        f"{plugin} {instance.version}: accuracy {metrics['accuracy']:.3f}, "
        f"macro-F1 {metrics['macro_f1']:.3f} "
        f"on {metrics['samples']} images; files in {instance.weights_dir()}"
    )


@ml_cli.command("compare")
@DATA_OPTION
@click.argument("versions", nargs=-1, required=True)
def compare_command(data_dir, versions) -> None:
    """Evaluate trained VERSIONS (plugin/version ...) on the test split of one data set.

    The same comparison as the console's; it is listed there too.
    """
    from app.services import model_comparisons

    try:
        chosen = model_comparisons.checked_versions(versions)
    except model_comparisons.ComparisonError as error:
        raise click.ClickException(str(error)) from error
    comparison_id = model_comparisons.create(str(data_dir.resolve()), chosen, None)
    model_comparisons.run(comparison_id)
    record = model_comparisons.load(comparison_id)
    if record["status"] != model_comparisons.DONE:
        raise click.ClickException(record["error"])
    click.echo(f"On the same {record['test_images']} test images of {data_dir}:")
    for row in record["results"]:
        click.echo(f"  {row['plugin']} {row['version']}: accuracy {row['accuracy']:.3f}, "
                   f"macro-F1 {row['macro_f1']:.3f}, {row['latency_ms_per_face']} ms/face, "
                   f"{row['size_mb']} MB")


@ml_cli.command("convert")
@click.argument("plugins", nargs=-1)
@click.option("--force", is_flag=True, help="Convert again even where the copy is current.")
def convert_command(plugins, force) -> None:
    """Convert MTCNN and the Keras classifiers to float32 LiteRT for serving.

    Each copy is cached beside its model version with the checksum of its source; copies
    that are current are left alone. Without PLUGINS: every available Keras plugin.
    """
    from app.ml import mtcnn_litert
    from app.plugins.keras_plugin import KerasClassifierPlugin

    models_dir, _ = _settings()
    reason = mtcnn_litert.stale_reason(models_dir)
    if reason is None and not force:
        click.echo(f"mtcnn: current in {mtcnn_litert.cache_dir(models_dir)}")
    else:
        paths = mtcnn_litert.convert_stages(models_dir)
        click.echo(f"mtcnn: converted {', '.join(p.name for p in paths)} into {paths[0].parent}")
    names = list(plugins) or list(deployment_plugins())
    for name in names:
        plugin = _plugin_class(name)(models_dir)
        if not isinstance(plugin, KerasClassifierPlugin):
            click.echo(f"{name}: not a Keras plugin; it serves with its own runtime")
        elif not plugin.available():
            click.echo(f"{name}: skipped ({plugin.unavailable_reason()})")
        elif plugin.litert_stale_reason() is None and not force:
            click.echo(f"{name} {plugin.version}: current ({plugin.litert_path()})")
        else:
            click.echo(f"{name} {plugin.version}: converted to {plugin.convert_to_litert()}")


@ml_cli.command("predict")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--plugin", "plugin_name", default=None, help="Default: the built-in default plugin.")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
def predict_command(path, plugin_name, as_json) -> None:
    """Analyse a photo or clip at PATH: faces, probabilities, indicator, time per stage."""
    from app.jobs.resources import classifier, face_detector
    from app.ml.media import MediaError, sniff_media_kind
    from app.ml.pipeline import analyse_clip, analyse_photo
    from app.plugins import DEFAULT_PLUGIN, PluginUnavailable

    models_dir, max_side = _settings()
    config = {**current_app.config, "ML_MODELS_DIR": models_dir, "FACE_MAX_SIDE": max_side}
    name = plugin_name or DEFAULT_PLUGIN
    _plugin_class(name)
    try:
        plugin = classifier(config, name)
        detector = face_detector(config)
        data = path.read_bytes()
        kind = sniff_media_kind(data)
        if kind == "video":
            result = analyse_clip(path, plugin, detector).to_dict()
        else:
            result = analyse_photo(data, plugin, detector).to_dict()
    except (PluginUnavailable, MediaError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from exc
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"{result['kind']}: {result['status']} face(s) — plugin {name} {plugin.version} "
        f"({plugin.runtime or 'own runtime'}; detector {detector.backend})"
    )
    faces = result["faces"] if result["kind"] == "photo" else []
    for face in faces:
        top = max(face["probabilities"], key=face["probabilities"].get)
        click.echo(
            f"  box {face['box']} conf {face['confidence']:.3f} top {top} {face['probabilities'][top]:.2f}"
        )
    if result["kind"] == "clip":
        click.echo(f"  frames {result['frames_decoded']}, with face {result['frames_with_face']}")
    summary = result["summary"]
    if summary:
        click.echo(
            f"  indicator {summary['indicator']} ± {summary['spread']} ({summary['version']}), "
            f"dominant {summary['dominant']}"
        )
    click.echo("  timings ms: " + ", ".join(f"{k} {v}" for k, v in result["timings_ms"].items()))
