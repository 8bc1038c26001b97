"""An existing session is written in one statement, in autocommit (ocpizza/sessions.py).

Run on a real transaction (`transactional_db`): inside pytest-django's per-test transaction
every write would go through Django's savepoint path.
"""

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection, transaction

from ocpizza.sessions import SessionStore

# Each test ends by emptying every table: the rows migrations made are put back after the module.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("restore_migrated_rows"),
]


class Statements:
    """An execute_wrapper: each statement with whether it ran in autocommit."""

    def __init__(self):
        self.seen = []

    def __call__(self, execute, sql, params, many, context):
        self.seen.append((sql.split()[0].upper(), connection.get_autocommit()))
        return execute(sql, params, many, context)


def saved_session(**data):
    session = SessionStore()
    session.update(data)
    session.create()
    return session.session_key


def test_an_existing_session_is_written_by_one_update_in_autocommit():
    key = saved_session(cart="old")
    session = SessionStore(session_key=key)
    session["cart"] = "new"
    statements = Statements()
    with connection.execute_wrapper(statements):
        session.save()
    # One statement, no BEGIN/COMMIT around it (they would show as a statement run with
    # autocommit off): Django's engine opened a transaction for it.
    assert statements.seen == [("UPDATE", True)]
    assert SessionStore(session_key=key).load() == {"cart": "new"}


def test_a_session_deleted_meanwhile_raises_update_error_and_is_not_created_again():
    key = saved_session(cart="old")
    session = SessionStore(session_key=key)
    session["cart"] = "new"
    Session.objects.filter(session_key=key).delete()
    with pytest.raises(UpdateError):
        session.save()
    assert not Session.objects.filter(session_key=key).exists()


def test_inside_a_transaction_the_write_is_djangos_own_savepoint():
    key = saved_session(cart="old")
    session = SessionStore(session_key=key)
    session["cart"] = "new"
    statements = Statements()
    with transaction.atomic(), connection.execute_wrapper(statements):
        session.save()
    assert [kind for kind, _ in statements.seen] == ["SAVEPOINT", "UPDATE", "RELEASE"]
    assert SessionStore(session_key=key).load() == {"cart": "new"}


def test_a_new_session_is_created_as_django_creates_it():
    session = SessionStore()
    session["cart"] = "first"
    session.save()
    assert session.session_key
    assert SessionStore(session_key=session.session_key).load() == {"cart": "first"}


def test_a_request_writes_its_changed_session_in_one_update(client, settings):
    assert settings.SESSION_ENGINE == "ocpizza.sessions"
    session = client.session
    session["seen"] = 1
    session.save()  # the visitor's session, created
    statements = Statements()
    with connection.execute_wrapper(statements):
        response = client.post("/panier/code/", {"code": "ete24"})
    assert response.status_code == 302
    assert response["Location"] == "/panier/"
    assert [entry for entry in statements.seen if entry[0] != "SELECT"] == [("UPDATE", True)]
    assert client.session["cart"]["code"] == "ETE24"
