"""Face analysis: pure computation (no Flask, no database) — media, faces, scoring, Grad-CAM, training."""

import os

# TensorFlow's C++ layer logs cost-model warnings on every traced graph; operators only need errors.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
