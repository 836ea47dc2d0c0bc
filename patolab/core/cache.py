"""The Redis cache backend, minus a per-call client object.

Django's Redis cache builds a new `redis.Redis` object for every operation:
cheap to use, not to build (it copies ~80 response callbacks into a
case-insensitive dict), and every request pays it at least once, reading its
session. A `redis.Redis` object is only a front to its connection pool and is
safe to share between threads, so one per pool is kept.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        stock: Any = self  # Django's private attributes, untyped in the stubs
        pool = stock._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = stock._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with `RedisCacheClient`."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
