"""Languages and time zones: which catalogues ship, which zone names are real, and the marker
for strings defined at import time. Nothing here imports Flask, so every layer may use it."""
