import threading

import pytest
from django.db import DatabaseError, connection, transaction

from applications.tests.factories import CallFactory
from audit.models import ChainLink
from audit.verification import verify_history

from .scenario import count_chained_rows


@pytest.mark.django_db(transaction=True)
def test_two_transactions_committing_together_keep_one_chain():
    calls = [CallFactory(attachment_types=False), CallFactory(attachment_types=False)]
    both_written = threading.Barrier(2, timeout=30)
    errors = []

    def edit(call, marker: str) -> None:
        try:
            with transaction.atomic():
                for step in range(15):
                    call.title = f"{marker} {step}"
                    call.save()
                # Both transactions hold unchained links here; they then commit at the same moment.
                both_written.wait()
        except (DatabaseError, threading.BrokenBarrierError) as error:  # a thread cannot fail the test itself
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(call, marker)) for call, marker in zip(calls, "AB", strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    rows = count_chained_rows()
    assert errors == []
    assert list(ChainLink.objects.order_by("sequence").values_list("sequence", flat=True)) == list(range(1, rows + 1))
    assert verify_history().anomalies == []
