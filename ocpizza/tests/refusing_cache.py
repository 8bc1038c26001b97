"""A cache that answers reads but refuses every write with Redis' own error, as a Redis that is up
but will not write (a full memory under `noeviction`, a failed snapshot, a read-only replica) does.
The fail-soft cache lets such errors through: they are not outages."""

from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import ResponseError


class WriteRefusingCache(LocMemCache):
    def _refuse(self, *args, **kwargs):
        raise ResponseError("OOM command not allowed when used memory > 'maxmemory'.")

    add = set = set_many = touch = delete = delete_many = incr = _refuse
