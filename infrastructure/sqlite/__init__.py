"""The embedded default persistence: jobs, minutes accounts, payments and the job queue in one
SQLite file.

Standard library only, so the bot runs with no cloud account; the webhook process and the
worker process may open the same file, and correctness rests on SQL transactions.
"""

from infrastructure.sqlite.accounts import SqliteAccountRepository
from infrastructure.sqlite.action_results import SqliteActionResults
from infrastructure.sqlite.chats import SqliteChatRepository
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.erasure import SqliteUserDataEraser
from infrastructure.sqlite.jobs import SqliteJobRepository
from infrastructure.sqlite.payments import SqlitePaymentRepository
from infrastructure.sqlite.preferences import SqlitePreferencesRepository
from infrastructure.sqlite.queue import SqliteJobQueue
from infrastructure.sqlite.updates import SqliteProcessedUpdates

__all__ = [
    "SqliteAccountRepository",
    "SqliteActionResults",
    "SqliteChatRepository",
    "SqliteDatabase",
    "SqliteJobQueue",
    "SqliteJobRepository",
    "SqlitePaymentRepository",
    "SqlitePreferencesRepository",
    "SqliteProcessedUpdates",
    "SqliteUserDataEraser",
]
