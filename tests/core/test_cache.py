"""core.cache.FailSafeRedisCache against a real redis-server that each test
stops, pauses (hung: the kernel accepts connections, nothing answers) and
starts again. The machine's shared Redis is never touched."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest
import redis

from core.cache import FailSafeRedisCache
from tests.redis_server import RedisServer

TIMEOUT = 0.2
RECHECK = 0.5


@pytest.fixture
def server():
    s = RedisServer()
    s.start()
    yield s
    s.close()


@pytest.fixture
def make_cache(server):
    made: list[FailSafeRedisCache] = []

    def make(prefix: str = "t") -> FailSafeRedisCache:
        cache = FailSafeRedisCache(
            server.url(),
            {
                "KEY_PREFIX": prefix,
                "OPTIONS": {
                    "socket_connect_timeout": TIMEOUT,
                    "socket_timeout": TIMEOUT,
                    "recheck_seconds": RECHECK,
                },
            },
        )
        made.append(cache)
        return cache

    yield make
    for cache in made:
        cache._cache.get_client(write=True).connection_pool.disconnect()


def test_reads_miss_and_writes_are_skipped_while_redis_is_down(server, make_cache):
    cache = make_cache()
    cache.set("kept", "value")
    assert cache.get("kept") == "value"

    server.kill()

    assert cache.get("kept") is None
    assert cache.get("kept", "fallback") == "fallback"
    assert cache.get_many(["kept", "other"]) == {}
    assert cache.has_key("kept") is False
    assert cache.add("new", 1) is False
    cache.set("new", 1)
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.touch("kept") is False
    assert cache.delete("kept") is False
    cache.delete_many(["a", "b"])
    # A counter that cannot be read starts again, under any limit.
    assert cache.incr("attempts") == 1
    assert cache.incr("attempts", 5) == 5
    assert cache.get_or_set("computed", lambda: 42) == 42
    cache.clear()


def test_a_missing_counter_still_raises_while_redis_answers(server, make_cache):
    cache = make_cache()
    with pytest.raises(ValueError):
        cache.incr("never-set")


def test_a_hung_redis_costs_one_timeout_then_nothing_until_the_recheck(server, make_cache):
    cache = make_cache()
    cache.set("kept", "value")
    server.pause()

    started = time.monotonic()
    assert cache.get("kept") is None
    first = time.monotonic() - started
    assert TIMEOUT * 0.9 <= first < TIMEOUT + 0.5

    # Left alone until the recheck: a hundred calls cost nothing.
    started = time.monotonic()
    for _ in range(100):
        assert cache.get("kept") is None
        cache.set("kept", "other")
    assert time.monotonic() - started < 0.1

    # Then tried again (and found hung again): one more timeout.
    time.sleep(RECHECK)
    started = time.monotonic()
    assert cache.get("kept") is None
    assert time.monotonic() - started >= TIMEOUT * 0.9


def test_it_answers_again_when_redis_returns_and_logs_once_each_way(server, make_cache, caplog):
    cache = make_cache()
    cache.set("before", 1)
    server.kill()
    with caplog.at_level(logging.WARNING, logger="core.outage"):
        for _ in range(50):
            assert cache.get("before") is None
        server.start()
        time.sleep(RECHECK)
        cache.set("after", 2)
        assert cache.get("after") == 2
    lines = [r.getMessage() for r in caplog.records if r.name == "core.outage"]
    assert len(lines) == 2, lines
    assert lines[0].startswith("The Redis cache is unreachable (ConnectionError")
    assert lines[1].startswith("The Redis cache answers again after")
    assert "49 calls skipped" in lines[1]


def test_entries_a_skipped_write_would_have_changed_are_gone_after_the_outage(server, make_cache):
    """Redis kept its data through the outage (paused, as in a network
    partition): a logout's session delete that was skipped must not let the
    old session come back from the cache."""
    cache = make_cache(prefix="helpdesk")
    cache.set("session:abc", {"user": 7})
    cache.set("perms:user:7", "old set")
    raw = redis.Redis.from_url(server.url())
    # Keys that are not this cache's: the Celery broker's, another prefix's.
    raw.set("_kombu.binding.helpdesk", "queue")
    raw.rpush("helpdesk", "a task")
    raw.set("helpdesk-other:1:x", "theirs")

    server.pause()
    assert cache.get("session:abc") is None  # the outage is noticed
    assert cache.delete("session:abc") is False  # a logout, skipped meanwhile
    cache.set("perms:version", 2)  # a role change, skipped too
    server.resume()
    time.sleep(RECHECK)

    assert cache.get("session:abc") is None
    assert cache.get("perms:user:7") is None
    assert raw.get("_kombu.binding.helpdesk") == b"queue"
    assert raw.lrange("helpdesk", 0, -1) == [b"a task"]
    assert raw.get("helpdesk-other:1:x") == b"theirs"
    raw.close()
    # And the cache works as before.
    cache.set("session:abc", {"user": 8})
    assert cache.get("session:abc") == {"user": 8}


def test_an_outage_with_reads_only_keeps_the_entries(server, make_cache):
    cache = make_cache()
    cache.set("list", [1, 2, 3])
    server.pause()
    assert cache.get("list") is None
    server.resume()
    time.sleep(RECHECK)
    assert cache.get("list") == [1, 2, 3]


@pytest.mark.parametrize("variable", ["HELPDESK_REDIS_TIMEOUT", "HELPDESK_REDIS_RECHECK_SECONDS"])
@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_settings_refuse_timeouts_that_are_not_positive_seconds(variable, value):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", "DJANGO_SECRET_KEY": "x"}
    env[variable] = value
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert variable in result.stderr


def test_settings_give_the_cache_and_the_broker_short_timeouts():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DJANGO_SECRET_KEY": "x",
        "REDIS_URL": "redis://127.0.0.1:6399/0",
        "HELPDESK_REDIS_CONNECT_TIMEOUT": "0.3",
        "HELPDESK_REDIS_TIMEOUT": "0.7",
        "HELPDESK_REDIS_RECHECK_SECONDS": "3",
    }
    env.pop("CELERY_BROKER_URL", None)
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "c = s.CACHES['default']; print(c['BACKEND'], c['OPTIONS'], "
        "s.CELERY_BROKER_TRANSPORT_OPTIONS, s.CELERY_BROKER_CONNECTION_TIMEOUT)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.split()[0] == "core.cache.FailSafeRedisCache"
    assert "'socket_connect_timeout': 0.3, 'socket_timeout': 0.7, 'recheck_seconds': 3.0" in out
    assert "{'socket_connect_timeout': 0.3, 'socket_timeout': 0.7} 0.3" in out
