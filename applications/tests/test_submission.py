import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from applications import clock, services
from applications.models import Dossier, DossierSection, Submission
from applications.sections import SECTION_FORMS, SectionForm
from applications.tests.factories import CallFactory, complete_dossier
from conftest import sign_in

PARIS = dt.timezone(dt.timedelta(hours=1))


def at(moment, monkeypatch):
    """Set the portal's one clock (the database's in production) to `moment`."""
    monkeypatch.setattr(clock, "now", lambda: moment)


def paris(*args, zone="Europe/Paris"):
    from zoneinfo import ZoneInfo

    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


@pytest.fixture
def call_2013(db):
    return CallFactory(
        reference_prefix="PTCE-2013",
        opens_at=clock.local_instant(dt.datetime(2013, 7, 15)),
        closes_at=clock.local_instant(dt.datetime(2013, 10, 31)),
    )


def submit_through_view(client, dossier):
    sign_in(client, dossier.consortium.created_by)
    return client.post(reverse("applications:dossier-submit", args=[dossier.pk]))


def test_ptce_2013_deadline_is_midnight_cet(call_2013):
    assert call_2013.closes_at == dt.datetime(2013, 10, 30, 23, 0, tzinfo=dt.UTC)


def test_submission_one_millisecond_before_deadline_is_accepted(client, call_2013, media, monkeypatch):
    dossier = complete_dossier(call_2013)
    at(dt.datetime(2013, 10, 30, 23, 59, 59, 999000, tzinfo=PARIS), monkeypatch)

    response = submit_through_view(client, dossier)

    dossier.refresh_from_db()
    assert response.status_code == 302
    assert dossier.status == Dossier.Status.SUBMITTED
    assert dossier.current_submission.reference == "PTCE-2013-0001"
    assert dossier.current_submission.submitted_at == dt.datetime(2013, 10, 30, 23, 59, 59, 999000, tzinfo=PARIS)


def test_submission_at_deadline_is_refused_and_dossier_stays_draft(client, call_2013, media, monkeypatch):
    dossier = complete_dossier(call_2013)
    at(dt.datetime(2013, 10, 31, 0, 0, 0, tzinfo=PARIS), monkeypatch)

    response = submit_through_view(client, dossier)

    dossier.refresh_from_db()
    assert response.status_code == 302
    assert dossier.status == Dossier.Status.DRAFT
    assert Submission.objects.count() == 0
    page = client.get(response["Location"])
    assert "La date limite de dépôt" in page.content.decode()


@pytest.mark.parametrize(
    ("closes", "before", "after"),
    [
        # 30 Oct 2022: clocks went back from 03:00 CEST to 02:00 CET that night.
        (
            dt.datetime(2022, 10, 31, 0, 0),
            dt.datetime(2022, 10, 30, 22, 59, 59, 999000, tzinfo=dt.UTC),
            dt.datetime(2022, 10, 30, 23, 0, tzinfo=dt.UTC),
        ),
        # Summer time: midnight CEST is 22:00 UTC.
        (
            dt.datetime(2024, 7, 1, 0, 0),
            dt.datetime(2024, 6, 30, 21, 59, 59, 999000, tzinfo=dt.UTC),
            dt.datetime(2024, 6, 30, 22, 0, tzinfo=dt.UTC),
        ),
    ],
)
def test_deadline_on_clock_change_day_and_in_summer(closes, before, after, db, media, monkeypatch):
    call = CallFactory(
        opens_at=clock.local_instant(closes) - dt.timedelta(days=60), closes_at=clock.local_instant(closes)
    )
    dossier = complete_dossier(call)

    at(after, monkeypatch)
    with pytest.raises(services.SubmissionRefused):
        services.submit_dossier(dossier, by=dossier.consortium.created_by)
    at(before, monkeypatch)
    submission = services.submit_dossier(dossier, by=dossier.consortium.created_by)

    assert submission.submitted_at == before


@pytest.mark.parametrize(
    ("naive", "problem"),
    [(dt.datetime(2013, 3, 31, 2, 30), "n'existe pas"), (dt.datetime(2013, 10, 27, 2, 30), "est ambiguë")],
)
def test_call_at_a_local_time_that_does_not_exist_or_is_ambiguous_is_refused(naive, problem):
    with pytest.raises(ValueError, match=problem):
        clock.local_instant(naive)


def test_admin_refuses_a_call_closing_at_a_nonexistent_local_time(client, program_staff):
    program_staff.is_superuser = True
    program_staff.save()
    sign_in(client, program_staff)

    response = client.post(
        reverse("admin:applications_call_add"),
        {
            "title": "Appel test",
            "slug": "appel-test",
            "reference_prefix": "TEST-1",
            "opens_at_0": "01/01/2013",
            "opens_at_1": "00:00:00",
            "closes_at_0": "31/03/2013",
            "closes_at_1": "02:30:00",
            "envelope": "1000",
            "target_laureates": "2",
            "funding_years": "3",
            "first_funding_year": "2014",
            "min_ess_members": "1",
            "min_other_members": "1",
            "attachment_types-TOTAL_FORMS": "0",
            "attachment_types-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "ne peut pas être interprété" in response.content.decode() or "interprété" in response.content.decode()


def test_clock_is_the_database_clock(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        database_now = cursor.fetchone()[0]
    assert abs(clock.now() - database_now) < dt.timedelta(seconds=1)


def test_submission_freezes_numbers_and_hashes(client, db, media):
    dossier = complete_dossier()

    response = submit_through_view(client, dossier)

    dossier.refresh_from_db()
    submission = dossier.current_submission
    assert response["Location"] == reverse("applications:submission-detail", args=[dossier.pk, 1])
    assert submission.reference == f"{dossier.call.reference_prefix}-0001"
    assert submission.content_sha256 == services.content_hash(submission.content)
    assert [org["name"] for org in submission.content["organisations"]] == [
        org.name for org in dossier.consortium.organisations.all()
    ]
    assert submission.content["budget"]["requested"]["total"] == 180_000
    receipt = client.get(response["Location"]).content.decode()
    assert submission.content_sha256 in receipt
    assert "En cours de production" in receipt


def test_a_submission_validates_each_section_once(client, db, media, monkeypatch):
    """The completeness check and the snapshot read the same validated forms (a second validation
    of every section was a tenth of the submission's own work)."""
    dossier = complete_dossier()
    cleaned = []
    full_clean = SectionForm.full_clean

    def counted(form):
        cleaned.append(form.key)
        return full_clean(form)

    monkeypatch.setattr(SectionForm, "full_clean", counted)

    response = submit_through_view(client, dossier)

    assert response["Location"] == reverse("applications:submission-detail", args=[dossier.pk, 1])
    assert sorted(cleaned) == sorted(form_class.key for form_class in SECTION_FORMS)


def test_the_overview_gives_each_section_its_state_and_lists_what_blocks_submission(client, db, media):
    dossier = complete_dossier()
    jobs = DossierSection.objects.get(dossier=dossier, key="emplois")
    jobs.data = {**jobs.data, "existing_jobs": "3", "existing_integration_jobs": "5"}
    jobs.save()
    DossierSection.objects.filter(dossier=dossier, key="budget").delete()
    sign_in(client, dossier.consortium.created_by)

    page = client.get(reverse("applications:dossier-overview", args=[dossier.pk])).content.decode()

    assert page.count("Complète") == len(SECTION_FORMS) - 2
    assert page.count("À compléter</span>") == 1  # Emplois: started, with its error
    assert "À compléter ou corriger : Dont emplois en insertion (ETP)" in page
    assert page.count("Non commencée") == 1  # the budget
    assert "Rubrique « Emplois » incomplète" in page
    assert "Rubrique « Budget sur trois ans » incomplète" in page
    assert reverse("applications:dossier-submit", args=[dossier.pk]) not in page


def test_numbers_are_gapless_per_call(db, media):
    call = CallFactory()
    first, second = complete_dossier(call), complete_dossier(call)
    other_call_dossier = complete_dossier()

    references = [
        services.submit_dossier(d, by=d.consortium.created_by).reference for d in (first, second, other_call_dossier)
    ]

    prefix = call.reference_prefix
    assert references == [f"{prefix}-0001", f"{prefix}-0002", f"{other_call_dossier.call.reference_prefix}-0001"]


def test_incomplete_dossier_is_refused_with_reasons(client, db, media):
    dossier = complete_dossier()
    DossierSection.objects.filter(dossier=dossier, key="budget").delete()

    response = submit_through_view(client, dossier)

    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.DRAFT
    assert "Rubrique « Budget sur trois ans » incomplète" in client.get(response["Location"]).content.decode()


def test_snapshot_does_not_change_when_live_data_changes(db, media):
    dossier = complete_dossier()
    submission = services.submit_dossier(dossier, by=dossier.consortium.created_by)
    frozen, digest = submission.content, submission.content_sha256

    organisation = dossier.consortium.organisations.first()
    organisation.name = "Nouveau nom"
    organisation.save()
    DossierSection.objects.filter(dossier=dossier, key="resume").update(data={"project_title": "Autre"})
    dossier.consortium.name = "Pôle renommé"
    dossier.consortium.save()

    submission.refresh_from_db()
    assert submission.content == frozen
    assert submission.content_sha256 == digest == services.content_hash(submission.content)


def test_resubmission_creates_a_new_version_and_keeps_the_old(db, media):
    dossier = complete_dossier()
    user = dossier.consortium.created_by
    first = services.submit_dossier(dossier, by=user)
    with pytest.raises(services.SubmissionRefused, match="déjà déposé"):
        services.submit_dossier(dossier, by=user)

    section = DossierSection.objects.get(dossier=dossier, key="resume")
    services.save_section(dossier, "resume", {**section.data, "summary": "Version corrigée."}, base_version=1, by=user)
    second = services.submit_dossier(dossier, by=user)

    dossier.refresh_from_db()
    assert (first.reference, second.reference) == (dossier.reference, f"{dossier.reference}-V2")
    assert dossier.current_submission == second
    assert services.snapshot_diff(first.content, second.content) == [
        {
            "label": "Présentation du projet — Résumé du projet",
            "old": "Regrouper dans une usine réhabilitée des structures de l'ESS et une entreprise classique.",
            "new": "Version corrigée.",
        }
    ]


def test_withdraw_and_reinstate_before_deadline(client, db, media):
    dossier = complete_dossier()
    services.submit_dossier(dossier, by=dossier.consortium.created_by)
    sign_in(client, dossier.consortium.created_by)

    client.post(reverse("applications:dossier-withdraw", args=[dossier.pk]), {"reason": "Projet reporté"})
    dossier.refresh_from_db()
    assert (dossier.status, dossier.withdrawn_reason) == (Dossier.Status.WITHDRAWN, "Projet reporté")

    client.post(reverse("applications:dossier-reinstate", args=[dossier.pk]))
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.SUBMITTED
    assert list(dossier.events.values_list("to_status", flat=True)) == ["submitted", "withdrawn", "submitted"]


def test_staff_extension_lets_one_dossier_submit_after_the_deadline(db, media, monkeypatch, program_staff):
    call = CallFactory(opens_at=paris(2013, 7, 15), closes_at=paris(2013, 10, 31))
    late, other = complete_dossier(call), complete_dossier(call)
    at(paris(2013, 10, 30, 12), monkeypatch)
    services.grant_deadline(late, until=paris(2013, 11, 2), reason="Panne du portail le 30 octobre", by=program_staff)

    at(paris(2013, 11, 1, 10), monkeypatch)
    submission = services.submit_dossier(late, by=late.consortium.created_by)
    with pytest.raises(services.SubmissionRefused):
        services.submit_dossier(other, by=other.consortium.created_by)

    assert submission.submitted_at == paris(2013, 11, 1, 10)
    event = late.events.get(kind="extension")
    assert (event.by, event.reason) == (program_staff, "Panne du portail le 30 octobre")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_give_exactly_one_number(media):
    dossier = complete_dossier()
    user = dossier.consortium.created_by
    barrier = threading.Barrier(2)
    outcomes = []

    def submit():
        from django.db import connections

        barrier.wait()
        try:
            outcomes.append(services.submit_dossier(Dossier.objects.get(pk=dossier.pk), by=user).reference)
        except services.SubmissionRefused as refusal:
            outcomes.append(refusal.reasons[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == sorted(
        [f"{dossier.call.reference_prefix}-0001", "Ce dossier est déjà déposé et n'a pas été modifié depuis."]
    )
    assert Submission.objects.count() == 1


@pytest.mark.worker
def test_on_time_submission_needs_no_worker_and_its_pdf_comes_later(request, transactional_db, media):
    from jobs.models import Job
    from jobs.services import sweep_outbox

    dossier = complete_dossier()
    submission = services.submit_dossier(dossier, by=dossier.consortium.created_by)
    assert submission.pdf_rendered_at is None
    assert Job.objects.pending().count() == 2

    # The worker starts later, with an empty queue (as after a Redis restart): the sweep resends.
    request.getfixturevalue("celery_worker")
    sweep_outbox(now=timezone.now() + dt.timedelta(hours=1))
    for _ in range(120):
        submission.refresh_from_db()
        if submission.pdf_rendered_at and not Job.objects.pending().exists():
            break
        time.sleep(0.5)

    assert submission.pdf_rendered_at is not None
    assert submission.receipts_sent_at is not None
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.DONE}


def test_staff_reopen_a_submitted_dossier_after_the_deadline_from_the_admin(
    client, db, media, monkeypatch, program_staff
):
    call = CallFactory(opens_at=paris(2013, 7, 15), closes_at=paris(2013, 10, 31))
    dossier = complete_dossier(call)
    at(paris(2013, 10, 30, 12), monkeypatch)
    first = services.submit_dossier(dossier, by=dossier.consortium.created_by)
    at(paris(2013, 11, 5, 9), monkeypatch)
    sign_in(client, program_staff)

    response = client.post(
        reverse("admin:applications_dossier_changelist"),
        {
            "action": "grant_own_deadline",
            "_selected_action": [dossier.pk],
            "apply": "1",
            "until_0": "08/11/2013",
            "until_1": "18:00:00",
            "reason": "Budget à corriger à la demande du comité",
        },
    )

    dossier.refresh_from_db()
    assert response.status_code == 302
    assert dossier.status == Dossier.Status.SUBMITTED
    assert dossier.current_submission == first
    assert dossier.deadline == paris(2013, 11, 8, 18)
    event = dossier.events.get(kind="reopening")
    assert (event.by, event.reason) == (program_staff, "Budget à corriger à la demande du comité")
    assert services.locked_reason(dossier) is None


def test_staff_see_what_changed_between_versions_in_the_admin(client, db, media, program_staff):
    dossier = complete_dossier()
    user = dossier.consortium.created_by
    services.submit_dossier(dossier, by=user)
    section = DossierSection.objects.get(dossier=dossier, key="gouvernance")
    services.save_section(
        dossier, "gouvernance", {**section.data, "decision_making": "Par consensus."}, base_version=1, by=user
    )
    second = services.submit_dossier(dossier, by=user)
    sign_in(client, program_staff)

    page = client.get(reverse("admin:applications_submission_change", args=[second.pk])).content.decode()

    assert "Gouvernance — Place de chaque membre dans les décisions" in page
    assert "Un membre, une voix." in page
    assert "Par consensus." in page
