"""menu.outbox: a task due with the transaction that makes it due (an outbox where tasks are rows)."""

import pytest
from django.db.transaction import TransactionManagementError

from menu.outbox import enqueue_with_commit, queued_in_database
from stores.tasks import send_low_stock_alert


def test_outside_a_transaction_it_refuses_even_where_tasks_run_at_once():
    """In production (tasks as rows) an enqueue outside a transaction would commit alone: refused
    there, it is refused in development and tests too, so such a caller cannot pass them."""
    assert not queued_in_database(send_low_stock_alert)  # the tests' backend runs tasks at once

    with pytest.raises(
        TransactionManagementError, match="enqueue_with_commit\\(\\) must run inside a transaction"
    ):
        enqueue_with_commit(send_low_stock_alert, 1)
