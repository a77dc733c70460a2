"""The tables, and the one place that knows which schema version a file carries.

``PRAGMA user_version`` records the version, so opening an up-to-date file changes nothing,
an older file is migrated step by step, and a file written by a newer release is refused
instead of being misread.
"""

from __future__ import annotations

import sqlite3

from application.errors import StorageError

# One tuple of statements per version step: _MIGRATIONS[0] takes a file from 0 to 1.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE IF NOT EXISTS jobs (
            job_id TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            source TEXT NOT NULL,
            duration_seconds REAL NOT NULL,
            reserved_minutes INTEGER NOT NULL,
            style TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            reply_to_message_id INTEGER,
            language TEXT,
            transcript TEXT,
            error TEXT,
            version INTEGER NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS jobs_by_user ON jobs (user_id, created_at)",
        """
        CREATE TABLE IF NOT EXISTS accounts (
            user_id INTEGER PRIMARY KEY,
            balance INTEGER NOT NULL,
            reservations TEXT NOT NULL,
            spent INTEGER NOT NULL,
            credited INTEGER NOT NULL,
            trial_granted INTEGER NOT NULL,
            version INTEGER NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS queue_messages (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id TEXT NOT NULL,
            enqueued_at REAL NOT NULL,
            visible_at REAL NOT NULL,
            delivery_count INTEGER NOT NULL DEFAULT 0,
            receipt TEXT UNIQUE
        )
        """,
        "CREATE INDEX IF NOT EXISTS queue_by_visibility ON queue_messages (visible_at, seq)",
        "CREATE INDEX IF NOT EXISTS queue_by_job ON queue_messages (job_id)",
    ),
    (
        # Telegram: the status message edited through the stages, the transcript cache by
        # file, users' settings, and the update ids already taken (webhook redelivery).
        "ALTER TABLE jobs ADD COLUMN status_message_id INTEGER",
        "ALTER TABLE jobs ADD COLUMN file_unique_id TEXT",
        "UPDATE jobs SET file_unique_id = json_extract(source, '$.file_unique_id')",
        "CREATE INDEX IF NOT EXISTS jobs_by_file ON jobs (file_unique_id, status)",
        """
        CREATE TABLE IF NOT EXISTS user_settings (
            user_id INTEGER PRIMARY KEY,
            style TEXT NOT NULL,
            updated_at REAL NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS processed_updates (
            update_key TEXT PRIMARY KEY,
            seen_at REAL NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS processed_updates_by_age ON processed_updates (seen_at)",
    ),
    (
        # Payments: the account keeps where its minutes came from (trial, purchased, granted,
        # refunded) and which charges it credited or refunded, so a charge is credited once
        # in the same atomic write as the minutes. ``credited`` stays as a column (dropping
        # it would rebuild the table) and is rewritten with the computed total on each save,
        # for people reading the file; it is never read back. Rows written before this step
        # cannot tell trial from bought minutes (there were no releases with payments), so
        # their whole ``credited`` moves to ``granted``, which keeps the ledger's invariant
        # ``balance + reserved + spent == credited``.
        "ALTER TABLE accounts ADD COLUMN trial INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE accounts ADD COLUMN purchased INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE accounts ADD COLUMN granted INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE accounts ADD COLUMN refunded INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE accounts ADD COLUMN payments TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE accounts ADD COLUMN refunds TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE accounts ADD COLUMN purchases TEXT NOT NULL DEFAULT '{}'",
        "UPDATE accounts SET granted = credited",
        # The record of every Stars payment, for statistics, export and refunds.
        """
        CREATE TABLE IF NOT EXISTS payments (
            charge_id TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL,
            package_id TEXT NOT NULL,
            stars INTEGER NOT NULL,
            minutes INTEGER NOT NULL,
            paid_at REAL NOT NULL,
            refunded_at REAL
        )
        """,
        "CREATE INDEX IF NOT EXISTS payments_by_time ON payments (paid_at)",
        # The stuck-job flush (unfinished, oldest change first) and the listing by age.
        "CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, updated_at)",
        "CREATE INDEX IF NOT EXISTS jobs_by_creation ON jobs (created_at)",
    ),
    (
        # The claim on a job in processing: nobody else takes it until this time.
        "ALTER TABLE jobs ADD COLUMN lease_expires_at REAL",
    ),
    (
        # The webhook's inbox: the update's body until it is handled.
        "ALTER TABLE processed_updates ADD COLUMN payload TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE processed_updates ADD COLUMN finished INTEGER NOT NULL DEFAULT 1",
        "CREATE INDEX IF NOT EXISTS updates_waiting ON processed_updates (finished, seen_at)",
    ),
    (
        # Group chats' settings: the mode, its options and the sponsor (NULL: requesters
        # pay), written with a version check like the accounts.
        """
        CREATE TABLE IF NOT EXISTS chats (
            chat_id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL,
            silent INTEGER NOT NULL,
            include_files INTEGER NOT NULL,
            sponsor_id INTEGER,
            updated_at REAL NOT NULL,
            version INTEGER NOT NULL
        )
        """,
    ),
    (
        # When a job first met its recognizer unavailable: it waits the outage out.
        "ALTER TABLE jobs ADD COLUMN outage_since REAL",
    ),
    (
        # How many messages of a job's answer are out: a retry sends only the rest.
        "ALTER TABLE jobs ADD COLUMN parts_sent INTEGER NOT NULL DEFAULT 0",
    ),
    (
        # The inbox's claims are leases: who holds an update and until when (0: nobody,
        # anyone may take it over), how many handlings failed, and why one was given up
        # on (``finished`` = 1 with ``failed_at`` set; its body kept for the owner).
        "ALTER TABLE processed_updates ADD COLUMN holder TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE processed_updates ADD COLUMN lease_expires_at REAL NOT NULL DEFAULT 0",
        "ALTER TABLE processed_updates ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE processed_updates ADD COLUMN failed_at REAL",
        "ALTER TABLE processed_updates ADD COLUMN error TEXT",
        "CREATE INDEX IF NOT EXISTS updates_by_lease"
        " ON processed_updates (finished, lease_expires_at)",
    ),
    (
        # A job's timed segments (a transcript record, JSON): subtitles and timed text.
        "ALTER TABLE jobs ADD COLUMN segments TEXT",
    ),
    (
        # Results of actions on transcripts (summary, action items, translation), written
        # once per job and action; by user for deleting a user's data.
        """
        CREATE TABLE IF NOT EXISTS action_results (
            job_id TEXT NOT NULL,
            action_key TEXT NOT NULL,
            user_id INTEGER NOT NULL,
            text TEXT NOT NULL,
            provider TEXT NOT NULL,
            prompt_version INTEGER NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (job_id, action_key)
        )
        """,
        "CREATE INDEX IF NOT EXISTS action_results_by_user ON action_results (user_id)",
    ),
    (
        # Each recognizer's learned throughput (seconds per audio second, a moving
        # average): the ETA on a long recording's status message.
        "CREATE TABLE IF NOT EXISTS recognizer_throughput ("
        " recognizer TEXT PRIMARY KEY, rate REAL NOT NULL, updated_at REAL NOT NULL)",
    ),
)

SCHEMA_VERSION = len(_MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the file to ``SCHEMA_VERSION``; run inside a write transaction."""
    (current,) = conn.execute("PRAGMA user_version").fetchone()
    if current > SCHEMA_VERSION:
        raise StorageError(
            f"database schema version {current} is newer than this release ({SCHEMA_VERSION})",
            transient=False,
        )
    for step in _MIGRATIONS[current:]:
        for statement in step:
            conn.execute(statement)
    if current != SCHEMA_VERSION:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
