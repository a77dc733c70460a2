# ruff: noqa: E402  (the SDK loggers are quieted before the SDK is imported)
"""The cloud persistence: jobs, minutes accounts, payments, settings, processed updates and
group chats, action results and the recognizers' throughput in Alibaba Cloud Tablestore
(OTS).

Usage: one ``TablestoreConnection`` per process, shared by all the repositories; run
``create_tables(connection)`` once (``voicescribe setup``), and ``await connection.close()``
at shutdown. Table layout and TTL: schema.py. Error mapping: errors.py.
"""

import logging

# The SDK warns at import time that its optional C++ encoder is absent; the pure Python one
# is what we test with. Keep that notice out of every command's stderr.
logging.getLogger("tablestore.encoder").setLevel(logging.ERROR)
logging.getLogger("tablestore.decoder").setLevel(logging.ERROR)

from infrastructure.tablestore.accounts import TablestoreAccountRepository
from infrastructure.tablestore.action_results import TablestoreActionResults
from infrastructure.tablestore.chats import TablestoreChatRepository
from infrastructure.tablestore.connection import DEFAULT_RETRY, TableNames, TablestoreConnection
from infrastructure.tablestore.erasure import TablestoreUserDataEraser
from infrastructure.tablestore.errors import ConditionFailed, TablestoreError
from infrastructure.tablestore.jobs import TablestoreJobRepository
from infrastructure.tablestore.payments import TablestorePaymentRepository
from infrastructure.tablestore.preferences import TablestorePreferencesRepository
from infrastructure.tablestore.schema import JOB_TTL_SECONDS, create_tables
from infrastructure.tablestore.throughput import TablestoreThroughput
from infrastructure.tablestore.updates import TablestoreProcessedUpdates

__all__ = [
    "DEFAULT_RETRY",
    "JOB_TTL_SECONDS",
    "ConditionFailed",
    "TableNames",
    "TablestoreAccountRepository",
    "TablestoreActionResults",
    "TablestoreChatRepository",
    "TablestoreConnection",
    "TablestoreError",
    "TablestoreJobRepository",
    "TablestorePaymentRepository",
    "TablestorePreferencesRepository",
    "TablestoreProcessedUpdates",
    "TablestoreThroughput",
    "TablestoreUserDataEraser",
    "create_tables",
]
