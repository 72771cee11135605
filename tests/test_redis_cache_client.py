"""Django's cache on Redis keeps one redis-py client per connection pool (config/redis_cache.py) instead of
building one per operation, and still behaves as Django's backend does."""
from __future__ import annotations

import pytest
from django.core.cache import cache, caches

pytestmark = [pytest.mark.postgres]  # the production lane, where DJANGO_CACHE_URL points at Redis


def test_the_production_cache_is_the_one_client_per_pool_backend():
    from config.redis_cache import RedisCache

    assert isinstance(caches["default"], RedisCache)


def test_every_operation_reuses_the_same_client():
    store = cache._cache
    first = store.get_client(write=True)
    cache.set("one-client:a", 1)
    cache.get("one-client:a")
    assert store.get_client(write=False) is first and store.get_client("any-key", write=True) is first


def test_values_round_trip_as_with_djangos_backend():
    cache.set("one-client:dict", {"answer": [1, 2.5, "x"]}, 30)
    cache.set_many({"one-client:b": b"bytes", "one-client:n": 7}, 30)
    assert cache.get("one-client:dict") == {"answer": [1, 2.5, "x"]}
    assert cache.get_many(["one-client:b", "one-client:n", "one-client:missing"]) == {"one-client:b": b"bytes",
                                                                                    "one-client:n": 7}
    assert cache.incr("one-client:n") == 8
    cache.delete_many(["one-client:dict", "one-client:b", "one-client:n"])
    assert cache.get("one-client:dict", "gone") == "gone"
