"""/healthz: whether this process can reach the database and the cache (issue 13, items 2-3).

For the proxy's or a monitor's health check: no session, no CSRF, no language prefix,
no personal data; 200 when both answer, 503 naming the part that does not. Each check
catches any error, so the answer is always this JSON, never an error page.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from .shared_cache import RedisCacheOrLocalMemory

logger = logging.getLogger(__name__)
OK, UNAVAILABLE = "ok", "unavailable"


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        logger.warning("Health check: the database does not answer (%s)", type(error).__name__)
        return UNAVAILABLE
    return OK


def _cache() -> str:
    cache = caches["default"]
    key, value = "healthz", secrets.token_hex(8)
    # The Redis cache falls back to this process's memory while Redis is down, which keeps
    # the form working but would hide the outage here: ask Redis itself.
    set_value: Callable[..., object] = cache.set
    get_value: Callable[..., object] = cache.get
    if isinstance(cache, RedisCacheOrLocalMemory):
        set_value = functools.partial(RedisCache.set, cache)
        get_value = functools.partial(RedisCache.get, cache)
    try:
        set_value(key, value, 30)
        answered = get_value(key)
    except Exception as error:
        logger.warning("Health check: the cache does not answer (%s)", type(error).__name__)
        return UNAVAILABLE
    if answered != value:
        logger.warning("Health check: the cache did not return what was stored")
        return UNAVAILABLE
    return OK


@csrf_exempt
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    parts = {"database": _database(), "cache": _cache()}
    healthy = all(state == OK for state in parts.values())
    return JsonResponse(parts, status=200 if healthy else 503)
