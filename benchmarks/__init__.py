"""Scripted measurements, run with `python -m benchmarks` (`make bench`); never timed tests."""
