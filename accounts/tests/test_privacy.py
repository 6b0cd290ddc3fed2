import json

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import PASSWORD, UserFactory
from applications.models import Attachment, DossierSection, Membership, Submission
from applications.tests.factories import ConsortiumFactory, DossierFactory, add_member
from conftest import sign_in
from reviews.models import Message

pytestmark = pytest.mark.django_db

PAGE = reverse("privacy:page")
EXPORT = reverse("privacy:export")


def when(moment) -> str:
    return timezone.localtime(moment).isoformat()


@pytest.fixture
def team():
    """An applicant who created a pole, owns it, wrote a section, a message and uploaded a file."""
    consortium = ConsortiumFactory(name="Pôle du Halage")
    owner = consortium.created_by
    dossier = DossierFactory(consortium=consortium)
    section = DossierSection(dossier=dossier, key="resume", data={"summary": "Une fabrique de coopérations"})
    section._history_user = owner
    section.save()
    Attachment.objects.create(
        dossier=dossier,
        file="dossiers/x/statuts",
        original_name="statuts.pdf",
        content_type="application/pdf",
        size=1234,
        sha256="b" * 64,
        uploaded_by=owner,
    )
    Message.objects.create(dossier=dossier, author=owner, body="Voici nos statuts à jour.")
    return owner, dossier


def test_the_export_holds_what_the_applicant_wrote_and_nothing_of_others(client, team):
    owner, dossier = team
    colleague = add_member(dossier.consortium, Membership.Role.EDITOR).user
    other = DossierSection(dossier=dossier, key="territoire", data={"anchoring": "écrit par un collègue"})
    other._history_user = colleague
    other.save()
    sign_in(client, owner)

    response = client.get(EXPORT)
    data = json.loads(response.content)

    membership = Membership.objects.get(user=owner)
    section = DossierSection.history.get(history_user=owner)
    upload = Attachment.objects.get()
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="mes-donnees-portail-ptce-')
    assert data["compte"] == {
        "adresse_email": owner.email,
        "prenom": owner.first_name,
        "nom": owner.last_name,
        "inscrit_le": when(owner.date_joined),
        "derniere_connexion": when(owner.last_login) if owner.last_login else None,
        "actif": True,
        "roles": ["Porteur de projet"],
    }
    assert data["equipes"] == [
        {"pole": "Pôle du Halage", "role": "Propriétaire", "depuis_le": when(membership.joined_at)}
    ]
    assert data["rubriques_redigees"] == [
        {
            "dossier": "Pôle du Halage",
            "rubrique": "resume",
            "enregistree_le": when(section.history_date),
            "contenu": {"summary": "Une fabrique de coopérations"},
        }
    ]
    assert data["fichiers_deposes"] == [
        {
            "dossier": str(dossier),
            "nom": "statuts.pdf",
            "type": "",
            "format": "application/pdf",
            "taille_octets": 1234,
            "empreinte_sha256": "b" * 64,
            "depose_le": when(upload.uploaded_at),
            "retire_le": None,
        }
    ]
    assert [message["message"] for message in data["messages"]] == ["Voici nos statuts à jour."]


def test_an_applicant_whose_dossiers_are_drafts_closes_their_account(client, team):
    owner, _ = team
    sign_in(client, owner)

    response = client.post(PAGE, {"password": PASSWORD, "confirm": "on"})

    owner.refresh_from_db()
    assert (response.status_code, response.url) == (302, reverse("home"))
    assert (owner.email, owner.first_name, owner.last_name, owner.is_active) == (
        f"compte-supprime-{owner.pk}@invalid",
        "",
        "",
        False,
    )
    assert owner.has_usable_password() is False
    assert (Membership.objects.filter(user=owner).count(), EmailAddress.objects.filter(user=owner).count()) == (0, 0)
    assert client.get(reverse("applications:dashboard")).status_code == 302  # signed out


def test_a_wrong_password_closes_nothing(client, team):
    owner, _ = team
    sign_in(client, owner)

    response = client.post(PAGE, {"password": "pas-le-bon", "confirm": "on"})

    owner.refresh_from_db()
    assert response.status_code == 400
    assert response.context["form"].errors == {"password": ["Mot de passe incorrect."]}
    assert owner.is_active is True


def test_guessing_the_password_from_a_signed_in_session_is_throttled(client, team):
    owner, _ = team
    sign_in(client, owner)
    for _attempt in range(5):
        client.post(PAGE, {"password": "pas-le-bon", "confirm": "on"})

    response = client.post(PAGE, {"password": PASSWORD, "confirm": "on"})  # even the right one, now

    owner.refresh_from_db()
    assert response.status_code == 400
    assert "Trop de tentatives" in response.context["form"].errors["password"][0]
    assert owner.is_active is True


def test_a_member_of_a_team_that_submitted_cannot_close_their_account(client, team):
    owner, dossier = team
    dossier.reference = "PTCE-2013-0007"
    dossier.save()
    Submission.objects.create(
        dossier=dossier,
        version=1,
        reference="PTCE-2013-0007",
        submitted_at=timezone.now(),
        submitted_by=owner,
        content={},
        content_sha256="0" * 64,
    )
    sign_in(client, owner)

    page = client.get(PAGE)
    refused = client.post(PAGE, {"password": PASSWORD, "confirm": "on"})

    owner.refresh_from_db()
    assert [obstacle.message for obstacle in page.context["obstacles"]] == [
        "Un dossier déposé vous engage : le dossier PTCE-2013-0007 a été déposé par vous ou par une équipe dont "
        "vous faites partie. Il doit rester rattaché à des personnes identifiables pendant son instruction et la "
        "durée de conservation des archives de l'appel."
    ]
    assert (page.context["form"], refused.status_code, owner.is_active) == (None, 400, True)


def test_a_reviewer_closes_no_account_alone(client):
    reviewer = UserFactory(role=Role.REVIEWER, is_staff=True)
    sign_in(client, reviewer)

    refused = client.post(PAGE, {"password": PASSWORD, "confirm": "on"})

    reviewer.refresh_from_db()
    assert (refused.status_code, reviewer.is_active) == (400, True)
    assert len(refused.context["obstacles"]) == 1


def test_the_page_and_the_export_need_a_signed_in_person(client):
    assert (client.get(PAGE).status_code, client.get(EXPORT).status_code) == (302, 302)


def test_the_dashboard_links_to_the_page(client, applicant):
    sign_in(client, applicant)

    assert f'href="{PAGE}"' in client.get(reverse("applications:dashboard")).content.decode()
