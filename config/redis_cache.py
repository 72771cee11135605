"""Django's Redis cache backend, with one redis-py client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` on every cache operation; its constructor fills a table of
~170 response callbacks, ~0.3 ms of CPU each time, several times per request (the session, the quiz page's
question fragments, the bank outline). The client is only a handle on its pool (which is thread-safe and
resets itself after a fork), so one per pool is kept instead. Nothing else differs from Django's backend.
"""
from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _OneClientPerPool(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _OneClientPerPool
