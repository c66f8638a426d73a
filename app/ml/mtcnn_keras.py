"""MTCNN's stage networks in TensorFlow: the reference detector, and the source of the LiteRT copies.

Each stage runs as one compiled `tf.function` (crops and network together, uint8 frames in),
which took a 512 px photo from 160 to 65 ms against the package's eager, op-by-op stages.
"""

from __future__ import annotations

import numpy as np

from app.ml.faces import DEFAULT_MAX_SIDE, FaceDetector

STAGES = ("pnet", "rnet", "onet")
# Network input of each stage: PNet is fully convolutional (any size, one image at a time).
STAGE_INPUTS = {"pnet": [1, None, None, 3], "rnet": [None, 24, 24, 3], "onet": [None, 48, 48, 3]}


def stage_networks() -> dict:
    """The three Keras networks with the weights that ship inside the `mtcnn` package."""
    from mtcnn.network.onet import ONet
    from mtcnn.network.pnet import PNet
    from mtcnn.network.rnet import RNet
    from mtcnn.utils.tensorflow import load_weights

    networks = {}
    for name, cls in zip(STAGES, (PNet, RNet, ONet), strict=True):
        net = cls()
        net.build()
        net.set_weights(load_weights(f"{name}.lz4"))
        networks[name] = net
    return networks


class KerasFaceDetector(FaceDetector):
    """MTCNN with compiled TensorFlow stages (imports TensorFlow)."""

    backend = "keras"

    def __init__(self, max_side: int = DEFAULT_MAX_SIDE, **options):
        import tensorflow as tf

        super().__init__(max_side, **options)
        networks = stage_networks()
        pnet = networks["pnet"]
        image_spec = tf.TensorSpec([None, None, None, 3], tf.float32)
        frames_spec = tf.TensorSpec([None, None, None, 3], tf.uint8)
        box_spec = tf.TensorSpec([None, 4], tf.float32)
        index_spec = tf.TensorSpec([None], tf.int32)

        @tf.function(input_signature=[image_spec])
        def run_pnet(image):
            return pnet(image)

        def cropping_stage(net, size):
            # Crops and network in one graph: one Python→TF round trip per stage. The
            # frames stay uint8 (4x less to copy); only the small patches are normalised.
            @tf.function(input_signature=[frames_spec, box_spec, index_spec])
            def run(images, boxes, image_index):
                patches = tf.image.crop_and_resize(images, boxes, image_index, (size, size))
                return net((patches - 127.5) / 128.0)

            return run

        self._run_pnet = run_pnet
        self._run_rnet = cropping_stage(networks["rnet"], 24)
        self._run_onet = cropping_stage(networks["onet"], 48)
        self._nms = tf.image.non_max_suppression

    def _pnet(self, level):
        regression, probability = self._run_pnet(level)
        return regression.numpy()[0], probability.numpy()[0, :, :, 1]

    def _rnet(self, images, boxes, index):
        offsets, scores = self._run_rnet(images, boxes, index)
        return offsets.numpy(), scores.numpy()[:, 1]

    def _onet(self, images, boxes, index):
        if not isinstance(images, np.ndarray):
            images = np.stack(images)  # a clip's frames come unstacked (see `FaceDetector.refine`)
        offsets, landmarks, scores = self._run_onet(images, boxes, index)
        return offsets.numpy(), landmarks.numpy(), scores.numpy()[:, 1]

    def _keep(self, boxes: np.ndarray, threshold: float) -> np.ndarray:
        if not len(boxes):
            return np.empty(0, np.int64)
        yx = boxes[:, [1, 0, 3, 2]]
        return self._nms(yx, boxes[:, 4], max_output_size=len(boxes), iou_threshold=threshold).numpy()
