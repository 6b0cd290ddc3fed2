import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from applications.models import DossierSection, Membership
from applications.sections import BudgetForm, format_euros
from applications.tests.factories import CallFactory, DossierFactory, add_member, budget_data
from conftest import sign_in


def section_url(dossier, key):
    return reverse("applications:dossier-section", args=[dossier.pk, key])


@pytest.fixture
def dossier(db):
    return DossierFactory()


@pytest.fixture
def owner_client(client, dossier):
    sign_in(client, dossier.consortium.created_by)
    return client


def test_partial_and_invalid_draft_is_saved_with_errors_next_to_fields(owner_client, dossier):
    response = owner_client.post(
        section_url(dossier, "emplois"),
        {"_version": "0", "existing_jobs": "10", "planned_jobs": "-3", "description": "Début de texte"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Brouillon enregistré" in html
    assert "Indiquez un nombre positif ou nul." in html
    assert "Début de texte" in html
    section = DossierSection.objects.get(dossier=dossier, key="emplois")
    assert section.data["planned_jobs"] == "-3"
    assert section.version == 1


def test_amounts_that_do_not_add_up_are_flagged(owner_client, dossier):
    data = {**budget_data(), "requested_0": "90000", "_version": "0"}

    response = owner_client.post(section_url(dossier, "budget"), data)

    html = response.content.decode()
    assert "Le budget 2014 n&#x27;est pas équilibré" in html
    assert 'value="90000"' in html


def test_budget_rejects_negative_and_cents(dossier):
    form = BudgetForm(data={**budget_data(), "expense_staff_0": "-5", "expense_staff_1": "12,50"}, call=dossier.call)

    assert form.is_valid() is False
    assert form.errors["expense_staff_0"] == ["Les montants ne peuvent pas être négatifs."]
    assert form.errors["expense_staff_1"] == ["Indiquez un montant en euros entiers, sans centimes."]


def test_requested_cannot_exceed_total_costs(dossier):
    data = {**budget_data(), "requested_0": "120000", "requested_1": "120000", "requested_2": "120000"}

    form = BudgetForm(data=data, call=dossier.call)

    assert form.is_valid() is False
    assert "ne peut dépasser le total des dépenses" in form.non_field_errors()[0]


def test_valid_budget_is_complete(dossier):
    form = BudgetForm(data=budget_data(), call=dossier.call)
    assert form.is_valid(), form.errors


def test_euros_are_formatted_the_french_way():
    assert format_euros(3_000_000) == "3\u202f000\u202f000\u00a0€"


def test_stale_save_is_refused_and_nothing_is_overwritten(client, dossier):
    editor = add_member(dossier.consortium, Membership.Role.EDITOR).user
    owner = dossier.consortium.created_by
    url = section_url(dossier, "resume")
    sign_in(client, owner)
    client.post(url, {"_version": "0", "project_title": "Titre de la propriétaire"})

    sign_in(client, editor)
    response = client.post(url, {"_version": "0", "project_title": "Titre du rédacteur"})

    assert response.status_code == 409
    html = response.content.decode()
    assert "a été modifiée par" in html
    assert owner.email in html
    assert 'value="Titre du rédacteur"' in html
    assert "Titre de la propriétaire" in html
    assert 'name="_version" value="1"' in html
    section = DossierSection.objects.get(dossier=dossier, key="resume")
    assert section.data["project_title"] == "Titre de la propriétaire"


def test_autosave_answers_json_and_detects_conflicts(owner_client, dossier):
    url = section_url(dossier, "resume")

    saved = owner_client.post(url, {"_version": "0", "summary": "Autosauvegardé"}, headers={"X-Autosave": "1"})
    stale = owner_client.post(url, {"_version": "0", "summary": "Ancien"}, headers={"X-Autosave": "1"})

    assert (saved.status_code, saved.json()["status"], saved.json()["version"]) == (200, "saved", 1)
    assert (stale.status_code, stale.json()["status"]) == (409, "conflict")
    assert DossierSection.objects.get(dossier=dossier, key="resume").data["summary"] == "Autosauvegardé"


def test_reader_can_read_but_not_save_a_section(client, dossier):
    reader = add_member(dossier.consortium, Membership.Role.READER).user
    sign_in(client, reader)

    assert client.get(section_url(dossier, "resume")).status_code == 200
    assert client.post(section_url(dossier, "resume"), {"_version": "0", "summary": "x"}).status_code == 403
    assert not DossierSection.objects.filter(dossier=dossier).exists()


def test_after_the_deadline_a_draft_is_read_only_and_says_why(client, db):
    dossier = DossierFactory(
        call=CallFactory(
            opens_at=timezone.now() - dt.timedelta(days=10), closes_at=timezone.now() - dt.timedelta(minutes=1)
        )
    )
    sign_in(client, dossier.consortium.created_by)

    page = client.get(section_url(dossier, "resume")).content.decode()
    response = client.post(section_url(dossier, "resume"), {"_version": "0", "summary": "trop tard"})

    assert "La date limite de dépôt" in page
    assert response.status_code == 302
    assert not DossierSection.objects.filter(dossier=dossier).exists()


def test_unknown_section_is_404(owner_client, dossier):
    assert owner_client.get(section_url(dossier, "inconnue")).status_code == 404
