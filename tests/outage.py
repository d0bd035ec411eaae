"""A database that cannot be reached, for the tests of the outage pages and /healthz."""

from __future__ import annotations

import contextlib

from django.db import OperationalError, connection


def _refuse(execute, sql, params, many, context):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


@contextlib.contextmanager
def database_unreachable():
    """Every query on this thread's connection raises OperationalError, as psycopg and
    sqlite3 do (through Django's wrapper) when the server is down or stops answering."""
    with connection.execute_wrapper(_refuse):
        yield
