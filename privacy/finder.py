"""Where is this person? Search every text column of every table (S16, S19).

Used by staff answering a request and by the tests that prove erasure leaves
no copy behind. Sessions are stored encoded, so they are decoded and searched
too, and so are the import files waiting for their preview to be confirmed
(customers/import_uploads.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection

from customers.import_uploads import upload_dir, uploads_mentioning

TEXT_TYPES = ("char", "text", "clob", "json", "varchar", "string")


@dataclass(frozen=True)
class Match:
    table: str
    column: str
    rows: int


def _register_casefold() -> str:
    """SQLite's LOWER() folds ASCII only ("Ä" stays "Ä"); give it Python's casefold."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_function(
            "kb_casefold",
            1,
            lambda v: v.casefold() if isinstance(v, str) else v,
            deterministic=True,
        )
        return "kb_casefold"
    return "LOWER"


def _text_columns(cursor, table: str) -> list[str]:
    description = connection.introspection.get_table_description(cursor, table)
    columns = []
    for column in description:
        type_name = (
            column.type_code
            if isinstance(column.type_code, str)
            else connection.introspection.get_field_type(column.type_code, column)
        )
        if any(t in str(type_name).lower() for t in TEXT_TYPES):
            columns.append(column.name)
    return columns


def find_personal_data(text: str) -> list[Match]:
    """Every table and column where `text` occurs, case-insensitively."""
    needle = text.casefold()
    fold = _register_casefold()
    quote = connection.ops.quote_name
    matches: list[Match] = []
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            for column in _text_columns(cursor, table):
                sql = (
                    f"SELECT COUNT(*) FROM {quote(table)} "  # noqa: S608 - names quoted
                    f"WHERE {fold}(CAST({quote(column)} AS TEXT)) LIKE %s"
                )
                cursor.execute(sql, [f"%{needle}%"])
                rows = cursor.fetchone()[0]
                if rows:
                    matches.append(Match(table, column, rows))
    sessions = sum(
        needle in repr(SessionStore().decode(s.session_data)).casefold() for s in Session.objects.iterator()
    )
    if sessions:
        matches.append(Match(Session._meta.db_table, "session_data (decoded)", sessions))
    uploads = uploads_mentioning(text)
    if uploads:
        matches.append(Match(str(upload_dir()), "import file awaiting confirmation", uploads))
    return matches
