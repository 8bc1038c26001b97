"""Sessions in the database, written in one round trip (settings.SESSION_ENGINE).

Django's database engine writes a session inside `transaction.atomic()`: a savepoint inside a
caller's transaction, where an INSERT that hits an existing key must not break it; outside one,
a transaction of its own, BEGIN and COMMIT each a round trip to PostgreSQL around the statement.
An existing session's write is one UPDATE: in autocommit it is its own transaction already, and
the two round trips buy nothing. Every request that changes a session writes it so (a cart add,
an order placed, which empties the cart: docs/performance.md). A new session, and any write inside
a caller's transaction, goes through Django's own code, unchanged.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError, router, transaction


class SessionStore(db.SessionStore):
    def save(self, must_create=False):
        if must_create or self.session_key is None:
            return super().save(must_create=must_create)
        obj = self.create_model_instance(self._get_session())
        using = router.db_for_write(self.model, instance=obj)
        if not transaction.get_autocommit(using=using):
            return super().save(must_create=must_create)
        try:
            # Django's UPDATE, which fails as DatabaseError when no row has this key (the session
            # was deleted meanwhile: a logout in another tab, an expiry clean-up).
            obj.save(force_update=True, using=using)
        except DatabaseError:
            raise UpdateError from None
