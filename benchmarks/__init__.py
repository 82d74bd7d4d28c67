"""Side-by-side benchmarks of kpi_xl: ``python -m benchmarks`` (or ``scripts/bench``).

Not part of the test run; ``tests/test_benchmarks.py`` only checks that the
quick mode's functions work and that the contenders agree with the engine.
See docs/performance.md for the latest table.
"""
