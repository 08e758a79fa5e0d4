"""What one run of TwineAuthenticate@1 costs: ``python3 benchmarks/run.py`` (see run.py)."""
