"""Workflow code: deterministic, no I/O. ``order.py`` is the order's life; ``stage_runner.py``
runs one stage's rules."""
