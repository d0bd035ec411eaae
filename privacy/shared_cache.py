"""The cache the request form's rate limit counts in, shared by every server process.

Production runs several gunicorn workers. A per-process cache would give each worker its
own count (3 workers: 15 posts an hour where 5 are allowed), so the default cache is
Django's DatabaseCache, whose table `migrate` creates (privacy.apps), and Redis is used
when CACHE_URL names one. Lockouts after failed logins are stored by django-axes in the
database, so they are shared already.

While Redis cannot be reached, the cache falls back to this process's memory instead of
failing: the public form keeps working (no 500) and keeps a limit, per worker as before
the shared cache, until Redis answers again. Failing open (no limit at all) was the
other choice; it would let a flood of requests, each sending a confirmation mail in the
business's name, through exactly while the limit's store is down.
"""

from __future__ import annotations

import functools
import logging

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OUTAGE = (RedisConnectionError, RedisTimeoutError)
# The operations of Django's cache API that reach the server.
SERVER_OPERATIONS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


class RedisCacheOrLocalMemory(RedisCache):
    """Django's Redis cache; while Redis is down, this process's memory (see above)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        local_params = {k: v for k, v in params.items() if k in ("TIMEOUT", "KEY_PREFIX", "VERSION")}
        self._local = LocMemCache(f"redis-fallback-{id(self)}", local_params)


def _or_local_memory(name: str):
    redis_operation = getattr(RedisCache, name)

    @functools.wraps(redis_operation)
    def operation(self, *args, **kwargs):
        try:
            return redis_operation(self, *args, **kwargs)
        except OUTAGE as error:
            logger.warning("Redis cannot be reached (%s): counting in this process", type(error).__name__)
            return getattr(self._local, name)(*args, **kwargs)

    return operation


for _name in SERVER_OPERATIONS:
    setattr(RedisCacheOrLocalMemory, _name, _or_local_memory(_name))
