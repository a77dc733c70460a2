"""A local Tablestore (OTS) for tests: the real wire protocol, data in memory.

``FakeTablestore`` (server.py) is the entry point; auth.py checks request signatures and
signs answers, api.py maps the protobuf APIs onto the in-memory tables (tables.py),
conditions.py checks row conditions and plainbuffer.py reads and writes PlainBuffer rows.
"""

from tests.fakes.tablestore.server import FakeTablestore, RecordedRequest

__all__ = ["FakeTablestore", "RecordedRequest"]
