"""Benchmarks for cis-monitoring: program evaluation, policy pack and pattern engine (``python -m benchmarks.run``)."""
