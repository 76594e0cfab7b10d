"""Where the generated rows go: PostgreSQL's COPY, or plain executemany for
the SQLite demo database. Both take the same row tuples.

The rows carry their own primary keys (the generator numbers them so that
messages and events can point at their ticket), so a sink hands out the first
free id of each table before anything is written and moves the id sequences
past the new rows at the end.

The SQL is assembled from table and column names of the models, quoted by the
database backend (the `noqa: S608` marks); values always go as parameters.
"""

from __future__ import annotations

import csv
import io
from typing import Protocol

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from demo.rows import TABLES, Chunk, FirstIds

# psycopg2 reads the COPY buffer in blocks of this size (its default is 8 kB).
_COPY_BLOCK = 1 << 20

# From this many new tickets on, and when they at least double the table,
# PostgreSQL loads without secondary indexes and foreign keys and builds them
# once at the end.
BULK_MIN_TICKETS = 50_000


class Sink(Protocol):
    def begin(self) -> FirstIds:
        """Prepare the tables for writing; return the first free ids."""

    def write(self, chunk: Chunk) -> None: ...

    def finish(self) -> None:
        """Make the database ready for normal use after the last chunk."""


def sink_for(connection: BaseDatabaseWrapper, tickets: int) -> Sink:
    """The sink for the connection's database, about to receive `tickets`."""
    if connection.vendor == "postgresql":
        return PostgresCopySink(connection, bulk_from=BULK_MIN_TICKETS, tickets=tickets)
    return InsertSink(connection)


def _columns(model: type[models.Model], fields: tuple[str, ...]) -> list[str]:
    return [model._meta.get_field(name).column for name in fields]


class PostgresCopySink:
    """COPY in CSV format from an in-memory buffer per chunk and table.

    A large load (`tickets` at least `bulk_from` and at least the tickets
    already there) first sets the secondary indexes and foreign keys of the
    three tables aside and rebuilds them in finish(): building an index once
    is several times faster than maintaining it row by row, and a foreign key
    is then validated with one join instead of a trigger per row (the
    PostgreSQL manual, "Populating a Database"). Primary keys and check
    constraints stay. Everything happens in the caller's transaction, so a
    failure restores them; until commit the tables are locked even for reading.
    """

    def __init__(self, connection: BaseDatabaseWrapper, *, bulk_from: int, tickets: int) -> None:
        self._connection = connection
        self._bulk_from = bulk_from
        self._tickets = tickets
        self._quote = quote = connection.ops.quote_name
        self._tables = [quote(model._meta.db_table) for model, _ in TABLES]
        self._copy_sql = [self._copy_statement(model, fields) for model, fields in TABLES]
        self._bulk = False
        # CREATE INDEX / ADD CONSTRAINT statements that rebuild what was set aside.
        self._indexes: list[str] = []
        self._foreign_keys: list[str] = []
        self._first_ids: list[int] = []
        self._next_ids: list[int] = []

    def _copy_statement(self, model: type[models.Model], fields: tuple[str, ...]) -> str:
        quote = self._quote
        columns = ", ".join(quote(column) for column in _columns(model, fields))
        # In CSV an unquoted empty value is NULL; text columns that cannot be
        # NULL must read it as an empty string instead.
        not_null_texts = [
            quote(field.column)
            for field in (model._meta.get_field(name) for name in fields)
            if isinstance(field, models.CharField | models.TextField) and not field.null
        ]
        options = f", FORCE_NOT_NULL ({', '.join(not_null_texts)})" if not_null_texts else ""
        return (
            f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN WITH (FORMAT csv{options})"
        )

    def begin(self) -> FirstIds:
        with self._connection.cursor() as cursor:
            # Nobody else may insert while the ids are ours to hand out. The
            # lock ends with the caller's transaction.
            cursor.execute(f"LOCK TABLE {', '.join(self._tables)} IN EXCLUSIVE MODE")
            for table in self._tables:
                # After both the highest id and the sequence, whichever is ahead.
                cursor.execute(
                    f"SELECT GREATEST(COALESCE(MAX(id), 0) + 1, "  # noqa: S608
                    f"nextval(pg_get_serial_sequence(%s, 'id'))) FROM {table}",
                    [table],
                )
                self._first_ids.append(cursor.fetchone()[0])
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: check them
            # row by row now instead of queueing every check for commit. This
            # also runs the checks already queued (the cast just created), which
            # must be done before a foreign key can be dropped.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"SELECT COUNT(*) FROM {self._tables[0]}")  # noqa: S608
            existing = cursor.fetchone()[0]
            self._bulk = self._tickets >= max(self._bulk_from, existing)
            if self._bulk:
                for table in self._tables:
                    self._set_aside(cursor, table)
        self._next_ids = list(self._first_ids)
        return FirstIds(*self._first_ids)

    def _set_aside(self, cursor: CursorWrapper, table: str) -> None:
        """Drop the table's foreign keys and secondary indexes, keeping their
        definitions for finish()."""
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {self._quote(name)}")
            self._foreign_keys.append(
                f"ALTER TABLE {table} ADD CONSTRAINT {self._quote(name)} {definition}"
            )
        # Indexes that back a constraint (the primary key, unique) stay, and so
        # do partial ones: they cover few rows (the open set, the unacknowledged),
        # and a predicate re-created from pg_get_indexdef is not always spelt
        # the way the migration created it.
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass AND indpred IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint WHERE conindid = indexrelid) ORDER BY 1",
            [table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f"DROP INDEX {name}")
            self._indexes.append(definition)

    def write(self, chunk: Chunk) -> None:
        with self._connection.cursor() as cursor:
            for position, rows in enumerate(chunk.tables()):
                if not rows:
                    continue
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="\n").writerows(rows)
                buffer.seek(0)
                cursor.copy_expert(self._copy_sql[position], buffer, size=_COPY_BLOCK)
                self._next_ids[position] = rows[-1][0] + 1

    def finish(self) -> None:
        with self._connection.cursor() as cursor:
            if self._bulk:
                # Index builds sort in memory; the default 64 MB spills to disk.
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                for statement in [*self._indexes, *self._foreign_keys]:
                    cursor.execute(statement)
            # Back to Django's default for the rest of the caller's transaction.
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table, first, following in zip(
                self._tables, self._first_ids, self._next_ids, strict=True
            ):
                if following > first:
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                        [table, following - 1],
                    )
                # Fresh statistics, so the first queries on the new rows plan well.
                cursor.execute(f"ANALYZE {table}")


class InsertSink:
    """executemany into any other database (the SQLite demo). SQLite's
    AUTOINCREMENT follows explicit ids by itself, so there is no sequence to
    move."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self._connection = connection
        quote = connection.ops.quote_name
        self._tables = [quote(model._meta.db_table) for model, _ in TABLES]
        self._insert_sql = [
            f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608
            f"({', '.join(quote(column) for column in _columns(model, fields))}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
            for model, fields in TABLES
        ]

    def begin(self) -> FirstIds:
        with self._connection.cursor() as cursor:
            first_ids = []
            for table in self._tables:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
                first_ids.append(cursor.fetchone()[0])
        return FirstIds(*first_ids)

    def write(self, chunk: Chunk) -> None:
        with self._connection.cursor() as cursor:
            for sql, rows in zip(self._insert_sql, chunk.tables(), strict=True):
                if rows:
                    cursor.executemany(sql, rows)

    def finish(self) -> None:
        """Nothing to do: SQLite keeps its AUTOINCREMENT counters itself."""
