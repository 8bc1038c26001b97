"""Tasks queued with the transaction that makes them due: an outbox, where tasks are rows.

In production, tasks are rows of this database (`django_tasks_db`, worked by `db_worker`): a task
enqueued inside a transaction commits with it or not at all. A worker killed between a commit and
an enqueue made after it would lose the task (an order's confirmation, a low-stock alert); queued
in the transaction, it cannot be lost that way, and costs one statement of the transaction instead
of a transaction of its own. Where tasks run at once (`ImmediateBackend`: development and tests),
a task run inside the transaction would see rows not yet committed and could not be undone: it
runs after the commit instead.
"""

from django.db import transaction

from . import rows


def queued_in_database(task):
    """Whether `task` is enqueued as a row of this database."""
    from django_tasks_db import DatabaseBackend  # imported once the apps are ready

    return isinstance(task.get_backend(), DatabaseBackend)


def enqueue_in_transaction(task, *args):
    """Enqueue `task` in the current transaction if it is queued in this database; True if it was,
    False (nothing done) where tasks run at once."""
    if not queued_in_database(task):
        return False
    rows.require_transaction("enqueue_in_transaction()")  # alone, the row would commit at once
    task.enqueue(*args)
    return True


def enqueue_with_commit(task, *args):
    """Enqueue `task` so that it is due once the current transaction commits, and never if it is
    rolled back: in the transaction (an outbox) where tasks are rows, else after the commit.
    Raises outside a transaction, whatever the backend: a caller that would fail in production
    fails in development and tests too."""
    rows.require_transaction("enqueue_with_commit()")
    if not enqueue_in_transaction(task, *args):
        transaction.on_commit(lambda: task.enqueue(*args))
