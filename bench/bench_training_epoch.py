"""What one training epoch of each trainable plugin costs on FER2013's 28,709 training images.

The images are synthetic (random 48×48 greyscale; no FER2013 reaches this machine): the cost
of an epoch depends on the image count and size, not on what the pixels show. Each plugin
runs the trainer's own input pipeline (augmentation on) for a few batches after one warm-up
batch; the epoch time is extrapolated from the mean batch time, and the output says so.

    .venv/bin/python bench/bench_training_epoch.py [--batches-cnn 40] [--batches-resnet 4]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from functools import partial

import numpy as np

FER_TRAIN_IMAGES = 28_709


def _stamp(ends: list[float], *_, **__) -> None:
    ends.append(time.perf_counter())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches-cnn", type=int, default=40)
    parser.add_argument("--batches-resnet", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from app.ml.training.datasets import FaceDataset
    from app.ml.training.trainer import _tf_dataset, augmentation
    from app.plugins.builtin import BaselineCnn, ResNet50V2Transfer

    rng = np.random.default_rng(0)
    batches_per_epoch = math.ceil(FER_TRAIN_IMAGES / args.batch_size)
    print(f"cores {os.cpu_count()}, TF {tf.__version__}, {FER_TRAIN_IMAGES} images, "
          f"batch {args.batch_size} → {batches_per_epoch} batches per epoch")
    for plugin_class, batches in ((BaselineCnn, args.batches_cnn), (ResNet50V2Transfer, args.batches_resnet)):
        count = (batches + 1) * args.batch_size
        data = FaceDataset(rng.integers(0, 256, (count, 48, 48), dtype=np.uint8),
                           rng.integers(0, 7, count), "synthetic")
        plugin = plugin_class("/nonexistent")
        plugin.model = plugin.build_model()
        dataset = _tf_dataset(plugin, data, args.batch_size, augmentation(), 0)
        ends: list[float] = []
        timer = keras.callbacks.LambdaCallback(on_train_batch_end=partial(_stamp, ends))
        started = time.perf_counter()
        plugin.model.fit(dataset, epochs=1, steps_per_epoch=batches + 1, callbacks=[timer], verbose=0)
        warmup = ends[0] - started  # the first batch traces the graph
        per_batch = (ends[-1] - ends[0]) / batches
        print(f"{plugin.name}: warm-up {warmup:.1f} s; {per_batch:.3f} s per batch over {batches} batches "
              f"→ one epoch ≈ {per_batch * batches_per_epoch / 60:.1f} min (extrapolated)")


if __name__ == "__main__":
    main()
