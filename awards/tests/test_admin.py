import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.tests.factories import CallFactory
from awards import services
from awards.models import Award, Decision, DecisionLetter, Tranche
from awards.tests.factories import COMMITTEE, laureate, submitted_with_request
from awards.tests.test_public import PDF
from conftest import sign_in


@pytest.fixture
def call(db):
    return CallFactory(envelope=500_000)


@pytest.fixture
def staff_client(client, program_staff):
    sign_in(client, program_staff)
    return client


def decision_form(**overrides):
    return {"outcome": "laureate", "committee_date": "2014-01-15", "amounts": "", "rationale": "", **overrides}


def test_a_decision_whose_award_would_exceed_the_envelope_shows_a_form_error(staff_client, call, program_staff):
    laureate(submitted_with_request(call, (100_000, 100_000, 100_000)), program_staff)
    waiting = services.record_decision(
        submitted_with_request(call, (100_000, 100_000, 100_000)),
        outcome=Decision.Outcome.WAITING_LIST,
        committee_date=COMMITTEE,
        by=program_staff,
    )

    response = staff_client.post(reverse("admin:awards_decision_change", args=[waiting.pk]), decision_form())

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["amounts"] == [
        "L'enveloppe de l'appel serait dépassée : 300\u202f000\u00a0€ déjà attribués, 300\u202f000\u00a0€ demandés ici, "
        "pour une enveloppe de 500\u202f000\u00a0€ (reste 200\u202f000\u00a0€)."
    ]
    waiting.refresh_from_db()
    assert waiting.outcome == Decision.Outcome.WAITING_LIST
    assert Award.objects.count() == 1


def test_staff_lower_an_award_from_the_admin_and_it_then_fits(staff_client, call, program_staff):
    laureate(submitted_with_request(call, (100_000, 100_000, 100_000)), program_staff)
    waiting = services.record_decision(
        submitted_with_request(call, (100_000, 100_000, 100_000)),
        outcome=Decision.Outcome.WAITING_LIST,
        committee_date=COMMITTEE,
        by=program_staff,
    )

    response = staff_client.post(
        reverse("admin:awards_decision_change", args=[waiting.pk]),
        decision_form(amounts="100 000 ; 50 000 ; 50 000", rationale="Montant réduit"),
    )

    assert response.status_code == 302
    award = Award.objects.get(decision=waiting)
    assert (award.amounts, award.total, award.decision.rationale) == (
        [100_000, 50_000, 50_000],
        200_000,
        "Montant réduit",
    )
    assert award.decision.history.first().history_user == program_staff


def test_decisions_are_read_only_once_results_are_published(staff_client, call, program_staff):
    decision = laureate(submitted_with_request(call), program_staff)
    services.publish_results(call, by=program_staff)

    response = staff_client.post(
        reverse("admin:awards_decision_change", args=[decision.pk]), decision_form(outcome="not_selected")
    )

    assert response.status_code == 403
    decision.refresh_from_db()
    assert decision.outcome == Decision.Outcome.LAUREATE


def test_export_action_downloads_the_laureates_of_the_call(staff_client, call, program_staff):
    decision = laureate(submitted_with_request(call), program_staff)

    response = staff_client.post(
        reverse("admin:awards_decision_changelist"), {"action": "export_csv", "_selected_action": [decision.pk]}
    )

    assert response["Content-Disposition"] == f'attachment; filename="{call.slug}-laureats.csv"'
    assert decision.dossier.reference in b"".join(response.streaming_content).decode()


# --- Tranches ---


def tranche_form(award, rows):
    """The award's change form with the tranche inline set to `rows` (date, amount, status)."""
    existing = list(award.tranches.order_by("position"))
    data = {
        "tranches-TOTAL_FORMS": str(len(rows)),
        "tranches-INITIAL_FORMS": str(len(existing)),
        "tranches-MIN_NUM_FORMS": "0",
        "tranches-MAX_NUM_FORMS": "1000",
    }
    for index, (planned, amount, status) in enumerate(rows):
        data.update(
            {
                f"tranches-{index}-id": str(existing[index].pk) if index < len(existing) else "",
                f"tranches-{index}-award": str(award.pk),
                f"tranches-{index}-planned_date": planned,
                f"tranches-{index}-amount": str(amount),
                f"tranches-{index}-status": status,
                f"tranches-{index}-paid_date": "",
            }
        )
    return data


@pytest.fixture
def award(call, program_staff):
    return laureate(submitted_with_request(call, (90_000, 80_000, 70_000)), program_staff).award


def test_tranches_that_do_not_add_up_to_the_award_show_a_form_error(staff_client, award):
    rows = [("2014-03-01", 50_000, "payable"), ("2015-03-01", 80_000, "planned"), ("2016-03-01", 70_000, "planned")]

    response = staff_client.post(reverse("admin:awards_award_change", args=[award.pk]), tranche_form(award, rows))

    assert response.status_code == 200
    assert list(response.context["inline_admin_formsets"][0].formset.non_form_errors()) == [
        "La somme des tranches (200\u202f000\u00a0€) doit être égale à la subvention (240\u202f000\u00a0€)."
    ]
    assert list(award.tranches.values_list("amount", flat=True)) == [90_000, 80_000, 70_000]


def test_staff_split_a_tranche_through_the_services(staff_client, award, program_staff):
    rows = [
        ("2014-03-01", 45_000, "payable"),
        ("2014-09-01", 45_000, "planned"),
        ("2015-03-01", 80_000, "planned"),
        ("2016-03-01", 70_000, "planned"),
    ]
    data = tranche_form(award, rows)
    data["tranches-3-id"] = ""

    response = staff_client.post(reverse("admin:awards_award_change", args=[award.pk]), data)

    assert response.status_code == 302
    assert list(award.tranches.order_by("position").values_list("position", "planned_date", "amount", "status")) == [
        (1, dt.date(2014, 3, 1), 45_000, "payable"),
        (2, dt.date(2014, 9, 1), 45_000, "planned"),
        (3, dt.date(2015, 3, 1), 80_000, "planned"),
        (4, dt.date(2016, 3, 1), 70_000, "planned"),
    ]


def test_marking_a_tranche_paid_skipping_payable_is_refused_next_to_the_status(staff_client, award):
    rows = [("2014-03-01", 90_000, "payable"), ("2015-03-01", 80_000, "paid"), ("2016-03-01", 70_000, "planned")]

    response = staff_client.post(reverse("admin:awards_award_change", args=[award.pk]), tranche_form(award, rows))

    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[1].errors["status"] == ["Passage impossible de « Prévue » à « Payée » en une fois."]
    assert award.tranches.get(position=2).status == Tranche.Status.PLANNED


def test_paying_the_first_tranche_from_the_admin(staff_client, award):
    rows = [("2014-03-01", 90_000, "paid"), ("2015-03-01", 80_000, "planned"), ("2016-03-01", 70_000, "planned")]

    response = staff_client.post(reverse("admin:awards_award_change", args=[award.pk]), tranche_form(award, rows))

    assert response.status_code == 302
    assert award.tranches.get(position=1).status == Tranche.Status.PAID


# --- Reports and letters ---


def test_approve_action_makes_the_next_tranche_payable(staff_client, award, program_staff, media):
    team_member = award.decision.dossier.consortium.created_by
    services.publish_results(award.call, by=program_staff)
    report = services.add_report(
        award, year_index=1, uploaded_file=SimpleUploadedFile("rapport.pdf", PDF), by=team_member
    )

    response = staff_client.post(
        reverse("admin:awards_activityreport_changelist"), {"action": "approve", "_selected_action": [report.pk]}
    )

    assert response.status_code == 302
    report.refresh_from_db()
    assert report.approved_by == program_staff
    assert award.tranches.get(position=2).status == Tranche.Status.PAYABLE


def test_letters_are_editable_until_released_then_read_only(staff_client, call, program_staff):
    laureate(submitted_with_request(call), program_staff)
    services.publish_results(call, by=program_staff)
    letter = DecisionLetter.objects.get()
    url = reverse("admin:awards_decisionletter_change", args=[letter.pk])

    edited = staff_client.post(url, {"subject": "Décision — relue", "body": "Texte relu."})
    staff_client.post(
        reverse("admin:awards_decisionletter_changelist"), {"action": "release", "_selected_action": [letter.pk]}
    )
    released_page = staff_client.get(url).content.decode()

    letter.refresh_from_db()
    assert edited.status_code == 302
    assert (letter.subject, letter.body) == ("Décision — relue", "Texte relu.")
    assert letter.released_by == program_staff
    assert 'name="body"' not in released_page


def test_call_admin_page_shows_allocated_remaining_and_laureates(client, program_staff):
    call = CallFactory(envelope=500_000, target_laureates=2)
    services.record_decision(
        submitted_with_request(call, (100_000, 100_000, 100_000)),
        outcome=Decision.Outcome.LAUREATE,
        committee_date=dt.date(2014, 1, 15),
        by=program_staff,
    )
    sign_in(client, program_staff)

    page = client.get(reverse("admin:applications_call_change", args=[call.pk])).content.decode()

    assert (
        "300\u202f000\u00a0€ attribués, 200\u202f000\u00a0€ restants sur 500\u202f000\u00a0€ ; 1 lauréat(s) pour 2 visés."
        in page
    )
