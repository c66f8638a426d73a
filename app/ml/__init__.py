"""Face analysis: pure computation (no Flask, no database) — media, faces, scoring, Grad-CAM, training."""
