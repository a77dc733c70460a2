"""The Tablestore tables and ``create_tables``, run by ``voicescribe setup``; idempotent.

Why this exists: Tablestore has no migrations, only tables with a fixed primary key. Layout:

* ``<prefix>jobs``, PK ``(user_id INTEGER, created_us INTEGER, job_id STRING)``: one row
  per job. ``created_us`` is ``created_at`` in microseconds, so one user's jobs are one
  key range in time order and "newest first" is a single backward GetRange with a limit.
* ``<prefix>job_keys``, PK ``(job_id STRING)``, columns ``user_id``, ``created_us``: the
  way from a job id to its row in ``jobs``. It is written first, with ``EXPECT_NOT_EXIST``,
  and never changes, so it is also what makes ``add`` unique. (A global secondary index
  would do the lookup but is updated asynchronously, and a job must be readable by id the
  moment it is queued.)
* ``<prefix>job_files``, PK ``(file_unique_id STRING, created_us INTEGER, job_id STRING)``,
  column ``user_id``: the jobs of one Telegram file, newest first, for the transcript cache.
  Written once by ``add``, between the id claim and the job row.
* ``<prefix>accounts``, PK ``(user_id INTEGER)``: one row per minutes account.
* ``<prefix>settings``, PK ``(user_id INTEGER)``: the user's ``UserStyle`` as JSON.
* ``<prefix>processed_updates``, PK ``(update_key STRING)``: Telegram updates already taken.
* ``<prefix>payments``, PK ``(charge_id STRING)``: one row per Telegram Stars payment, the
  record kept for statistics, export and refunds (the account row is what credits a
  charge once). Listed by time with a scan (scan.py): payments are few.
* ``<prefix>chats``, PK ``(chat_id INTEGER)``: a group's settings (mode, options, sponsor),
  written with a version check.
* ``<prefix>action_results``, PK ``(job_id STRING, action_key STRING)``: the result of an
  action on a transcript (summary, action items, translation), written once; it expires
  with the jobs.
* ``<prefix>recognizer_throughput``, PK ``(recognizer STRING)``: each recognizer's learned
  pace (recognition seconds per audio second), for the ETA of long recordings.

Jobs, job keys and job files expire after ``job_ttl_seconds`` (7 days, as in the
reference); processed updates after 2 days (Telegram stops redelivering after one);
accounts, settings, payments, chats and throughput never. TTL counts per cell from its last
write: every save rewrites all of a job's cells, so a job row never expires in part, and its key row
(written once) keeps it readable by id for 7 days after it was added. An existing table
with another primary key is an error, not silently used. Right after CreateTable the
service may answer ``OTSTableNotReady`` for a short while; that error is retried (see
errors.py).
"""

from __future__ import annotations

from tablestore import CapacityUnit, ReservedThroughput, TableMeta, TableOptions

from application.errors import StorageError
from infrastructure.tablestore.connection import TablestoreConnection
from infrastructure.tablestore.errors import OBJECT_ALREADY_EXIST, TablestoreError

JOB_TTL_SECONDS = 7 * 24 * 3600
UPDATE_TTL_SECONDS = 2 * 24 * 3600
NO_TTL = -1
JOBS_KEY = [("user_id", "INTEGER"), ("created_us", "INTEGER"), ("job_id", "STRING")]
JOB_KEYS_KEY = [("job_id", "STRING")]
JOB_FILES_KEY = [("file_unique_id", "STRING"), ("created_us", "INTEGER"), ("job_id", "STRING")]
USER_KEY = [("user_id", "INTEGER")]
UPDATES_KEY = [("update_key", "STRING")]
PAYMENTS_KEY = [("charge_id", "STRING")]
CHATS_KEY = [("chat_id", "INTEGER")]
ACTION_RESULTS_KEY = [("job_id", "STRING"), ("action_key", "STRING")]
THROUGHPUT_KEY = [("recognizer", "STRING")]


async def create_tables(
    connection: TablestoreConnection, *, job_ttl_seconds: int = JOB_TTL_SECONDS
) -> list[str]:
    """Create the missing tables; returns the names of those created (empty when all
    existed). Raises ``StorageError`` if a table exists with a different primary key."""
    names = connection.tables
    wanted = [
        (names.jobs, JOBS_KEY, job_ttl_seconds),
        (names.job_keys, JOB_KEYS_KEY, job_ttl_seconds),
        (names.job_files, JOB_FILES_KEY, job_ttl_seconds),
        (names.accounts, USER_KEY, NO_TTL),
        (names.settings, USER_KEY, NO_TTL),
        (names.processed_updates, UPDATES_KEY, UPDATE_TTL_SECONDS),
        (names.payments, PAYMENTS_KEY, NO_TTL),
        (names.chats, CHATS_KEY, NO_TTL),
        (names.action_results, ACTION_RESULTS_KEY, job_ttl_seconds),
        (names.recognizer_throughput, THROUGHPUT_KEY, NO_TTL),
    ]
    created = []
    for name, key, ttl in wanted:
        if await _create(connection, name, key, ttl):
            created.append(name)
        else:
            await _check_key(connection, name, key)
    return created


async def _create(
    connection: TablestoreConnection, name: str, key: list[tuple[str, str]], ttl: int
) -> bool:
    meta = TableMeta(name, key)
    options = TableOptions(time_to_live=ttl, max_version=1)
    throughput = ReservedThroughput(CapacityUnit(0, 0))
    try:
        # Not idempotent as a request: if an ambiguous failure hid a success, the
        # caller's second run finds the table and checks it.
        await connection.call(
            f"CreateTable {name}",
            lambda client: client.create_table(meta, options, throughput),
            idempotent=False,
        )
    except TablestoreError as error:
        if error.code == OBJECT_ALREADY_EXIST:
            return False
        raise
    return True


async def _check_key(
    connection: TablestoreConnection, name: str, key: list[tuple[str, str]]
) -> None:
    described = await connection.call(
        f"DescribeTable {name}", lambda client: client.describe_table(name), idempotent=True
    )
    actual = [tuple(column) for column in described.table_meta.schema_of_primary_key]
    if actual != key:
        raise StorageError(
            f"table {name} exists with primary key {actual}, expected {key}", transient=False
        )
