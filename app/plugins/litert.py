"""LiteRT (TFLite) copies of Keras models: converted at build time, cached with a checksum.

Serving through LiteRT keeps TensorFlow out of the worker (≈ 600 MB and ≈ 2.5 s of import).
A converted file sits beside what it was made from, with a JSON sidecar recording the
SHA-256 of its source file(s). A loader trusts the file only while that checksum still
matches: a missing or stale copy is never served (the caller falls back to Keras and
logs why), so a retrained or upgraded model can never answer with old weights.

Conversion needs TensorFlow and runs in `flask ml convert`, `make setup` and after training.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

# Bumped when what goes into a converted file changes (inputs, outputs, preprocessing split):
# files of an older format are stale even if their source did not change.
CONVERSION_FORMAT = 1
FLOAT32 = "float32"
# Dynamic-range int8 weights (activations stay float): 40 % of the size, but only 98 % top-1
# agreement with Keras on real faces (bench/bench_litert_int8.py), under the 99 % bar, so
# serving accepts float32 copies only; int8 is kept for that measurement.
DYNAMIC_INT8 = "dynamic-int8"
CONVERT_COMMAND = "flask ml convert"


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def source_digest(paths: Iterable[Path]) -> str:
    """SHA-256 over the bytes of every source file, in the given order."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def stale_reason(path: Path, digest: str, quantization: str = FLOAT32) -> str | None:
    """Why the converted file at `path` must not be served, or None when it is current."""
    meta_path = sidecar(path)
    if not path.is_file() or not meta_path.is_file():
        return f"no converted model at {path} (run `{CONVERT_COMMAND}`)"
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return f"unreadable {meta_path.name} (run `{CONVERT_COMMAND}`)"
    if meta.get("format") != CONVERSION_FORMAT:
        return f"{path.name} was made by an older converter (run `{CONVERT_COMMAND}`)"
    if meta.get("source_sha256") != digest:
        return f"{path.name} is stale: its source model changed (run `{CONVERT_COMMAND}`)"
    if meta.get("quantization") != quantization:
        return f"{path.name} is {meta.get('quantization')}, not {quantization} (run `{CONVERT_COMMAND}`)"
    if meta.get("model_sha256") != source_digest([path]):
        return f"{path.name} does not match its checksum (run `{CONVERT_COMMAND}`)"
    return None


def write_converted(path: Path, model: bytes, digest: str, quantization: str = FLOAT32, **extra) -> Path:
    """Write the model and its sidecar atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": CONVERSION_FORMAT,
        "source_sha256": digest,
        "model_sha256": hashlib.sha256(model).hexdigest(),
        "quantization": quantization,
        **extra,
    }
    for target, data in ((path, model), (sidecar(path), json.dumps(meta, indent=2).encode())):
        handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{target.name}.")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(scratch, target)
    return path


def convert(function: Callable, input_shape: list[int | None], quantization: str = FLOAT32) -> bytes:
    """TFLite flatbuffer of `function(float32 tensor of input_shape)` (None = dynamic size).

    Variables are frozen into constants first: a Keras model converted with live variables
    gives a file whose READ_VARIABLE ops fail, or NaNs once inputs are resized.
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    traced = tf.function(function, input_signature=[tf.TensorSpec(input_shape, tf.float32)])
    frozen = convert_variables_to_constants_v2(traced.get_concrete_function())
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    if quantization == DYNAMIC_INT8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantization != FLOAT32:
        raise ValueError(f"unknown quantization {quantization!r}")
    return converter.convert()


def converter_version() -> str:
    import tensorflow as tf

    return tf.__version__


class LiteRTModel:
    """A LiteRT model: float32 arrays in, outputs in the converted function's return order.

    Re-planning an interpreter for a new input size costs about as much as running it
    (≈ 2–5 ms here), and the image pyramid and face batches change size on every call.
    So one interpreter is kept per input shape (the pyramid of a given frame size repeats),
    and batches are padded up to a power of two so few batch sizes ever occur. Each
    interpreter holds activation buffers for its shape, so batches run in slices of at most
    `max_batch` and only `max_shapes` interpreters are kept: that bounds a worker's memory.
    """

    def __init__(self, path: Path, threads: int | None = None, max_shapes: int = 16, max_batch: int = 64):
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        self._content = self.path.read_bytes()
        self._threads = threads
        self._max_shapes = max_shapes
        self._max_batch = max_batch
        self._new = lambda: Interpreter(model_content=self._content, num_threads=threads)
        probe = self._new()
        details = probe.get_input_details()[0]
        self._signature = tuple(int(d) for d in details["shape_signature"])
        self._interpreters: OrderedDict[tuple[int, ...], object] = OrderedDict()

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The input's shape with -1 for dynamic dimensions."""
        return self._signature

    def _interpreter(self, shape: tuple[int, ...]):
        interpreter = self._interpreters.get(shape)
        if interpreter is not None:
            self._interpreters.move_to_end(shape)
            return interpreter
        interpreter = self._new()
        interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], shape, strict=True)
        interpreter.allocate_tensors()
        self._interpreters[shape] = interpreter
        if len(self._interpreters) > self._max_shapes:
            self._interpreters.popitem(last=False)
        return interpreter

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if self._signature[0] != -1 or len(batch) <= self._max_batch:
            return self._run(batch)
        parts = [self._run(batch[i : i + self._max_batch]) for i in range(0, len(batch), self._max_batch)]
        return [np.concatenate(outputs) for outputs in zip(*parts, strict=True)]

    def _run(self, batch: np.ndarray) -> list[np.ndarray]:
        count = len(batch)
        if self._signature[0] == -1 and count > 0:
            padded = 1 << (count - 1).bit_length()
            if padded != count:
                batch = np.concatenate([batch, np.zeros((padded - count, *batch.shape[1:]), np.float32)])
        interpreter = self._interpreter(batch.shape)
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], batch)
        interpreter.invoke()
        # Outputs are named Identity, Identity_1, … in the order the function returned them.
        outputs = sorted(interpreter.get_output_details(), key=lambda o: (len(o["name"]), o["name"]))
        # Copies: the interpreter reuses its buffers on the next call.
        return [interpreter.get_tensor(o["index"])[:count].copy() for o in outputs]
