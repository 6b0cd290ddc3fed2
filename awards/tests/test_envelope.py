import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction

from applications.tests.factories import CallFactory
from awards import services
from awards.models import Award, Decision, Tranche
from awards.tests.factories import COMMITTEE, laureate, submitted_with_request


@pytest.fixture
def call(db):
    return CallFactory(envelope=500_000)


def test_laureate_gets_what_it_asked_with_one_tranche_per_year(call, program_staff):
    dossier = submitted_with_request(call, (90_000, 80_000, 70_000))

    decision = laureate(dossier, program_staff)

    award = decision.award
    assert (award.amounts, award.total) == ([90_000, 80_000, 70_000], 240_000)
    assert list(award.tranches.values_list("position", "amount", "status")) == [
        (1, 90_000, Tranche.Status.PAYABLE),
        (2, 80_000, Tranche.Status.PLANNED),
        (3, 70_000, Tranche.Status.PLANNED),
    ]


def test_award_above_the_request_is_refused(call, program_staff):
    dossier = submitted_with_request(call, (90_000, 80_000, 70_000))

    with pytest.raises(ValidationError, match="dépasse le montant demandé"):
        laureate(dossier, program_staff, amounts=[100_000, 80_000, 70_000])


def test_award_beyond_the_envelope_is_refused_with_what_remains(call, program_staff):
    laureate(submitted_with_request(call, (100_000, 100_000, 100_000)), program_staff)

    with pytest.raises(services.EnvelopeExceeded, match="reste 200"):
        laureate(submitted_with_request(call, (100_000, 100_000, 100_000)), program_staff)
    assert Award.objects.count() == 1


def test_database_refuses_an_award_written_behind_the_services_back(call, program_staff):
    decision = laureate(submitted_with_request(call, (100_000, 100_000, 100_000)), program_staff)

    with pytest.raises(IntegrityError, match="envelope exceeded"), transaction.atomic():
        Award.objects.filter(pk=decision.award.pk).update(total=600_000)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_awards_that_together_exceed_the_envelope_one_succeeds():
    from accounts.roles import Role
    from accounts.tests.factories import UserFactory

    staff = UserFactory(role=Role.PROGRAM_STAFF)
    call = CallFactory(envelope=500_000)
    first = submitted_with_request(call, (100_000, 100_000, 100_000))
    second = submitted_with_request(call, (100_000, 100_000, 100_000))
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(dossier):
        barrier.wait()
        try:
            laureate(dossier, staff)
            outcomes.append("ok")
        except services.EnvelopeExceeded:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(d,)) for d in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok", "refused"]
    assert Award.objects.count() == 1


def test_tranches_must_add_up_to_the_award(call, program_staff):
    award = laureate(submitted_with_request(call, (90_000, 80_000, 70_000)), program_staff).award

    with pytest.raises(ValidationError, match="doit être égale"):
        services.set_tranches(award, schedule=[(dt.date(2014, 3, 1), 100_000)], by=program_staff)
    services.set_tranches(
        award, schedule=[(dt.date(2014, 3, 1), 120_000), (dt.date(2015, 3, 1), 120_000)], by=program_staff
    )
    assert list(award.tranches.values_list("amount", flat=True)) == [120_000, 120_000]


def test_approving_a_report_makes_the_next_tranche_payable(call, program_staff, media):
    from django.core.files.base import ContentFile

    from awards.models import ActivityReport

    award = laureate(submitted_with_request(call), program_staff).award
    report = ActivityReport(
        award=award, year_index=1, original_name="rapport.pdf", sha256="x", uploaded_by=program_staff
    )
    report.file.save("rapport.pdf", ContentFile(b"%PDF-1.4"), save=True)

    services.approve_report(report, by=program_staff)

    assert list(award.tranches.order_by("position").values_list("status", flat=True)) == [
        Tranche.Status.PAYABLE,
        Tranche.Status.PAYABLE,
        Tranche.Status.PLANNED,
    ]


def test_ledger_per_year(call, program_staff):
    laureate(submitted_with_request(call, (90_000, 80_000, 70_000)), program_staff)
    other = submitted_with_request(call, (10_000, 10_000, 10_000))
    services.record_decision(other, outcome=Decision.Outcome.NOT_SELECTED, committee_date=COMMITTEE, by=program_staff)
    tranche = Tranche.objects.get(position=1)
    services.set_tranche_status(tranche, Tranche.Status.PAID, by=program_staff)

    ledger = services.ledger(call)

    assert [(y.year, y.requested, y.proposed, y.awarded, y.paid) for y in ledger.years] == [
        (2014, 100_000, 90_000, 90_000, 90_000),
        (2015, 90_000, 80_000, 80_000, 0),
        (2016, 80_000, 70_000, 70_000, 0),
    ]
    assert (ledger.remaining, ledger.laureates) == (260_000, 1)


def test_every_change_to_an_award_is_recorded_with_who_and_when(call, program_staff):
    decision = laureate(submitted_with_request(call, (90_000, 80_000, 70_000)), program_staff)

    services.set_award(decision, amounts=[50_000, 80_000, 70_000], by=program_staff)

    changes = list(decision.award.history.order_by("history_date").values_list("history_user", "total"))
    assert changes == [(program_staff.pk, 240_000), (program_staff.pk, 200_000)]
