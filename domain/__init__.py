"""The pure core of voicescribe: what a voice job is and every decision about it.

Only the standard library and attrs are imported here (enforced by import-linter), so every
rule can be tested with hypothesis without a network, a disk or a clock.
"""
