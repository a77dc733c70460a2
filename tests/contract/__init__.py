"""Contract tests: one behaviour, checked against every adapter of a port."""
