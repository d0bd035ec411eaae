"""Bare Django views: the least a view can do to take a POST and store one row, or to
read one row, served by the same gunicorn and middleware as the register's public pages.
They are the peers of the request form and the notice page in make bench."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.utils import timezone

TABLE = "bench_bare_row"


def create_table() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} "
                "(id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, created_at timestamptz, payload text)"
            )
        else:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} "
                "(id integer PRIMARY KEY AUTOINCREMENT, created_at text, payload text)"
            )


def drop_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def insert(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (created_at, payload) VALUES (%s, %s)",  # noqa: S608
            [timezone.now(), request.POST.get("last_name", "")],
        )
    return HttpResponseRedirect("/fi/")


def read(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, payload FROM {TABLE} ORDER BY id DESC LIMIT 1")  # noqa: S608
        row = cursor.fetchone()
    return HttpResponse(f"<p>{row[0] if row else 0}</p>", content_type="text/html; charset=utf-8")
