"""A database outage: the database could not be reached (refused, dropped mid-operation, no
pooled connection in time), so the same request may succeed if retried later. The one place
that tells such failures from bugs; callers answer "unavailable, retry" instead of masking.
"""

from __future__ import annotations

import sqlite3

import psycopg2
from sqlalchemy import exc

# SQLite's primary result codes for a database busy, locked or not reachable as a file
# (https://sqlite.org/rescode.html). Its other OperationalErrors (syntax, no such table)
# are bugs, not outages.
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_PROTOCOL = 5, 6, 10, 14, 15
_SQLITE_OUTAGES = frozenset(
    {SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_PROTOCOL}
)
_MAX_CHAIN = 10
# PostgreSQL SQLSTATEs worth retrying (class 08, connection exceptions, is checked apart):
# admin/crash shutdown, cannot connect now, too many connections, serialization failure,
# deadlock detected.
_PG_TRY_AGAIN = frozenset({"57P01", "57P02", "57P03", "53300", "40001", "40P01"})


def is_database_outage(error: BaseException | None) -> bool:
    """True when `error`, or an error it was raised from, says the database could not be
    reached: SQLAlchemy's OperationalError, DisconnectionError and pool TimeoutError, a
    connection SQLAlchemy invalidated, psycopg2's OperationalError (connection refused or
    lost, server shutting down, ...), SQLite busy, locked or unable to open its file."""
    for _ in range(_MAX_CHAIN):
        if error is None:
            return False
        if _is_outage(error):
            return True
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return False


def _is_outage(error: BaseException) -> bool:
    if isinstance(error, exc.DisconnectionError | exc.TimeoutError):
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error.orig, sqlite3.Error):
            return _is_sqlite_outage(error.orig)
        if isinstance(error.orig, psycopg2.Error):
            return _is_driver_outage(error.orig)
        return isinstance(error, exc.OperationalError)  # no driver error to tell by
    return _is_driver_outage(error)


def _is_driver_outage(error: BaseException | None) -> bool:
    if isinstance(error, sqlite3.Error):
        return _is_sqlite_outage(error)
    if not isinstance(error, psycopg2.OperationalError):
        return False
    # No SQLSTATE: the connection itself failed (refused, lost). With one, only the classes
    # that mean "the server is away or busy, try again" count: a statement timeout or a
    # limit exceeded is an OperationalError too, and retrying it would never succeed.
    code = error.pgcode
    return code is None or code.startswith("08") or code in _PG_TRY_AGAIN


def _is_sqlite_outage(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return (
        isinstance(error, sqlite3.OperationalError)
        and isinstance(code, int)
        and code & 0xFF in _SQLITE_OUTAGES
    )
