import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_rate_limit_counters():
    """The rate limits count in the cache, which outlives a test's database transaction."""
    cache.clear()
    yield
    cache.clear()
