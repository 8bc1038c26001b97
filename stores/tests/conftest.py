import pytest


@pytest.fixture(scope="module")
def restore_migrated_rows(django_db_blocker):
    """Put back the rows migrations create once a module's transactional tests have emptied the tables.

    A transactional test (live server, real concurrency) ends by flushing every table, which also
    removes the root page, the locale and the allergens that migrations created. With --reuse-db
    the next run would start without them. Used with `serialized_rollback=True`, whose snapshot
    of the freshly migrated database this fixture loads again after the module's last test.
    """
    yield
    from django.db import connection

    contents = getattr(connection, "_test_serialized_contents", None)
    if contents:
        with django_db_blocker.unblock():
            connection.creation.deserialize_db_from_string(contents)
