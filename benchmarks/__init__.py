"""Benchmarks of voicescribe against physical floors measured in the same run (issue #7).

Run all with ``make bench`` (``python -m benchmarks``), one with
``python -m benchmarks cost``; ``--quick`` is the CI smoke mode (small sizes, no target
is asserted). Every benchmark prints its figures and the ratio to its floor and writes
``benchmarks/results/<name>.json``.
"""
