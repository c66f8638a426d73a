"""Grad-CAM towards negative affect: which parts of the face pushed the model there.

This is the "depression activation map" idea of DepressNet, applied to the emotion
classifier: gradients of the summed negative-class probabilities with respect to the
last convolutional feature map, weighted and rectified, upsampled onto the face crop.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from app.plugins.base import NEGATIVE_LABELS


def last_conv_layer(model) -> int:
    """Index of the last layer with a spatial (4-D) output: the finest map still aligned to the face."""
    for index in range(len(model.layers) - 1, -1, -1):
        if len(model.layers[index].output.shape) == 4:
            return index
    raise ValueError(f"{model.name} has no convolutional layer")


def gradcam_heatmap(plugin, face: np.ndarray, target_labels: tuple[str, ...] = NEGATIVE_LABELS) -> np.ndarray:
    """Heatmap in [0, 1] with the crop's height and width, for a Keras plugin and one RGB crop.

    Imports TensorFlow: the worker renders it only when a doctor first opens the map.
    """
    import keras
    import tensorflow as tf

    model = plugin.keras_model()  # Grad-CAM needs gradients: always the Keras model, never LiteRT
    index = last_conv_layer(model)
    # Split at the feature map and differentiate only the head (a plain chain of layers in
    # all built-ins): cheaper, and TF 2.21's eager Conv2D filter gradient crashes on CPU.
    features = keras.Model(model.inputs, model.layers[index].output)
    head = model.layers[index + 1 :]
    targets = [plugin.labels.index(label) for label in target_labels if label in plugin.labels]
    feature_map = features(plugin.preprocess_tensor(plugin.stack_faces([face])), training=False)
    with tf.GradientTape() as tape:
        tape.watch(feature_map)
        outputs = feature_map
        for layer in head:
            outputs = layer(outputs, training=False)
        score = tf.reduce_sum(tf.gather(outputs, targets, axis=1))
    gradients = tape.gradient(score, feature_map)
    channel_weights = tf.reduce_mean(gradients, axis=(1, 2))
    cam = tf.nn.relu(tf.reduce_sum(feature_map * channel_weights[:, None, None, :], axis=-1))[0].numpy()
    peak = cam.max()
    cam = cam / peak if peak > 0 else cam
    height, width = face.shape[:2]
    resized = Image.fromarray(cam.astype(np.float32), mode="F").resize((width, height), Image.BILINEAR)
    return np.clip(np.asarray(resized), 0.0, 1.0)


def supports_gradcam(plugin) -> bool:
    """Whether the plugin has a Keras model to differentiate (third-party plugins may not)."""
    return callable(getattr(plugin, "keras_model", None))


def overlay_png(face: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45) -> bytes:
    """The heatmap in the 'jet' colour map blended over the crop, as PNG bytes."""
    from matplotlib import colormaps

    rgb = face if face.ndim == 3 else np.repeat(face[..., None], 3, axis=-1)
    colours = colormaps["jet"](heatmap)[..., :3] * 255.0
    blended = (1 - alpha) * rgb.astype(np.float64) + alpha * colours
    buffer = io.BytesIO()
    Image.fromarray(blended.clip(0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()
