import html

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from applications.consortia import composition_problems, save_organisation
from applications.models import Consortium, Membership, Organisation, OrganisationKind
from applications.tests.factories import (
    CallFactory,
    ConsortiumFactory,
    DossierFactory,
    OrganisationFactory,
    add_member,
)
from conftest import sign_in

pytestmark = pytest.mark.django_db

CONSORTIUM_DATA = {
    "name": "Cité Phares",
    "communes": "L'Île-Saint-Denis",
    "departement": "93",
    "region": "IDF",
    "territory_priority": "qpv",
    "maturity": "mature",
    "sectors": ["insertion", "organic_farming"],
}

ORGANISATION_DATA = {
    "name": "Association Halage",
    "siret": "732 829 320 00074",
    "legal_form": "Association loi 1901",
    "kind": OrganisationKind.ESS_ASSOCIATION,
    "address": "1 quai de la Marine",
    "postcode": "93450",
    "commune": "L'Île-Saint-Denis",
    "email_domain": "@Halage.FR",
    "is_lead": "on",
}


def make_call(**fields):
    # CallFactory() itself raises factory_boy's DeprecationWarning (its Meta lacks
    # skip_postgeneration_save), and warnings are errors: build, then save.
    call = CallFactory.build(**fields)
    call.save()
    return call


def page(response) -> str:
    return html.unescape(response.content.decode())


# --- Consortium ---


def test_creating_a_consortium_makes_the_creator_its_owner(client, applicant):
    sign_in(client, applicant)

    response = client.post(reverse("applications:consortium-create"), CONSORTIUM_DATA)

    consortium = Consortium.objects.get()
    assert response.status_code == 302
    assert response["Location"] == consortium.get_absolute_url()
    assert consortium.created_by == applicant
    assert consortium.sectors == ["insertion", "organic_farming"]
    assert list(consortium.memberships.values_list("user", "role")) == [(applicant.pk, Membership.Role.OWNER)]


def test_consortium_form_renders_for_a_logged_in_user(client, applicant):
    sign_in(client, applicant)

    response = client.get(reverse("applications:consortium-create"))

    assert response.status_code == 200
    assert "<h1" in page(response)
    assert 'name="sectors"' in page(response)


@pytest.mark.parametrize("departement", ["20", "96", "970", "977", "2C", "abc"])
def test_invalid_departement_is_refused_with_a_french_message(client, applicant, departement):
    sign_in(client, applicant)

    response = client.post(reverse("applications:consortium-create"), {**CONSORTIUM_DATA, "departement": departement})

    assert response.status_code == 200
    assert response.context["form"].errors["departement"] == [
        "Indiquez un numéro de département valide : de 01 à 95, 2A, 2B ou de 971 à 976."
    ]
    assert Consortium.objects.count() == 0


@pytest.mark.parametrize(("typed", "stored"), [("2a", "2A"), ("974", "974"), ("1", "01")])
def test_valid_departement_is_normalised(client, applicant, typed, stored):
    sign_in(client, applicant)

    client.post(reverse("applications:consortium-create"), {**CONSORTIUM_DATA, "departement": typed})

    assert Consortium.objects.get().departement == stored


def test_editor_updates_the_consortium(client):
    consortium = ConsortiumFactory()
    editor = add_member(consortium, Membership.Role.EDITOR).user
    sign_in(client, editor)

    response = client.post(
        reverse("applications:consortium-update", args=[consortium.pk]), {**CONSORTIUM_DATA, "maturity": "emerging"}
    )

    consortium.refresh_from_db()
    assert response.status_code == 302
    assert (consortium.name, consortium.maturity) == ("Cité Phares", "emerging")
    assert consortium.history.first().history_user == editor


# --- Organisations ---


def test_adding_an_organisation_normalises_siret_and_domain(client):
    consortium = ConsortiumFactory()
    sign_in(client, consortium.created_by)

    response = client.post(reverse("applications:organisation-create", args=[consortium.pk]), ORGANISATION_DATA)

    organisation = consortium.organisations.get()
    assert response.status_code == 302
    assert response["Location"] == consortium.get_absolute_url()
    assert (organisation.siret, organisation.email_domain, organisation.is_lead) == (
        "73282932000074",
        "halage.fr",
        True,
    )


def test_wrong_siret_is_shown_next_to_the_field_and_typed_values_are_kept(client):
    consortium = ConsortiumFactory()
    sign_in(client, consortium.created_by)

    response = client.post(
        reverse("applications:organisation-create", args=[consortium.pk]),
        {**ORGANISATION_DATA, "siret": "732 829 320 00075"},
    )

    content = page(response)
    assert response.status_code == 200
    assert response.context["form"].errors["siret"] == ["Ce SIRET n'est pas valide : vérifiez les chiffres saisis."]
    # crispy-forms renders the field's errors inside the field's block, tied to its id.
    assert 'id="error_1_id_siret"' in content
    assert "Ce SIRET n'est pas valide" in content
    assert 'value="732 829 320 00075"' in content
    assert 'value="Association Halage"' in content
    assert 'value="1 quai de la Marine"' in content
    assert 'value="93450"' in content
    assert '<option value="ess_association" selected>' in content
    assert consortium.organisations.count() == 0


def test_siret_already_in_the_consortium_is_refused(client):
    consortium = ConsortiumFactory()
    OrganisationFactory(consortium=consortium, siret="73282932000074")
    sign_in(client, consortium.created_by)

    response = client.post(reverse("applications:organisation-create", args=[consortium.pk]), ORGANISATION_DATA)

    assert response.status_code == 200
    assert response.context["form"].errors["siret"] == ["Une organisation de ce pôle a déjà ce SIRET."]


def test_postcode_must_have_five_digits(client):
    consortium = ConsortiumFactory()
    sign_in(client, consortium.created_by)

    response = client.post(
        reverse("applications:organisation-create", args=[consortium.pk]), {**ORGANISATION_DATA, "postcode": "9345"}
    )

    assert response.context["form"].errors["postcode"] == ["Le code postal doit comporter 5 chiffres."]


def test_setting_a_second_lead_moves_the_lead_flag(client):
    consortium = ConsortiumFactory()
    first = OrganisationFactory(consortium=consortium, is_lead=True)
    sign_in(client, consortium.created_by)

    client.post(reverse("applications:organisation-create", args=[consortium.pk]), ORGANISATION_DATA)

    second = consortium.organisations.get(siret="73282932000074")
    first.refresh_from_db()
    assert (first.is_lead, second.is_lead) == (False, True)
    assert list(consortium.organisations.filter(is_lead=True)) == [second]


def test_making_an_existing_organisation_lead_moves_the_flag():
    consortium = ConsortiumFactory()
    first = OrganisationFactory(consortium=consortium, is_lead=True)
    second = OrganisationFactory(consortium=consortium)

    save_organisation(consortium, by=consortium.created_by, organisation=second, is_lead=True)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_lead, second.is_lead) == (False, True)
    assert first.history.first().history_user == consortium.created_by


def test_organisation_update_keeps_its_own_siret(client):
    consortium = ConsortiumFactory()
    organisation = OrganisationFactory(consortium=consortium, siret="73282932000074")
    sign_in(client, consortium.created_by)

    response = client.post(
        reverse("applications:organisation-update", args=[consortium.pk, organisation.pk]),
        {**ORGANISATION_DATA, "name": "Halage (nouveau nom)"},
    )

    organisation.refresh_from_db()
    assert response.status_code == 302
    assert organisation.name == "Halage (nouveau nom)"


def test_organisation_delete_asks_for_confirmation_then_removes_on_post(client):
    organisation = OrganisationFactory()
    consortium = organisation.consortium
    sign_in(client, consortium.created_by)
    url = reverse("applications:organisation-delete", args=[consortium.pk, organisation.pk])

    confirmation = client.get(url)
    assert confirmation.status_code == 200
    assert Organisation.objects.count() == 1

    response = client.post(url)

    assert response.status_code == 302
    assert Organisation.objects.count() == 0


# --- Detail page ---


def test_detail_shows_organisations_team_and_a_start_button_for_open_calls(client):
    call = make_call()
    consortium = ConsortiumFactory()
    OrganisationFactory(consortium=consortium, name="Halage", is_lead=True, siret="73282932000074")
    sign_in(client, consortium.created_by)

    response = client.get(reverse("applications:consortium-detail", args=[consortium.pk]))

    content = page(response)
    assert response.status_code == 200
    assert "Halage" in content
    assert "73282932000074" in content
    assert "Structure porteuse" in content
    assert consortium.created_by.email in content
    assert reverse("applications:dossier-start", args=[consortium.pk, call.slug]) in content
    assert "Commencer le dossier" in content
    assert [row["problems"] for row in response.context["calls"]] == [
        [
            "Le pôle doit associer au moins 1 organisation d'une autre nature (entreprise commerciale, "
            "collectivité territoriale, centre de recherche, organisme de formation…)."
        ]
    ]


def test_detail_links_to_the_existing_dossier(client):
    dossier = DossierFactory(call=make_call())
    sign_in(client, dossier.consortium.created_by)

    response = client.get(reverse("applications:consortium-detail", args=[dossier.consortium.pk]))

    assert dossier.get_absolute_url() in page(response)
    assert "Commencer le dossier" not in page(response)


def test_reader_sees_the_detail_without_start_button(client):
    make_call()
    consortium = ConsortiumFactory()
    reader = add_member(consortium, Membership.Role.READER).user
    sign_in(client, reader)

    response = client.get(reverse("applications:consortium-detail", args=[consortium.pk]))

    assert response.status_code == 200
    assert "Commencer le dossier" not in page(response)


# --- Access ---


def consortium_urls(consortium: Consortium, organisation: Organisation) -> list[tuple[str, str]]:
    pk, org_pk = consortium.pk, organisation.pk
    return [
        ("get", reverse("applications:consortium-detail", args=[pk])),
        ("get", reverse("applications:consortium-update", args=[pk])),
        ("post", reverse("applications:consortium-update", args=[pk])),
        ("get", reverse("applications:organisation-create", args=[pk])),
        ("post", reverse("applications:organisation-create", args=[pk])),
        ("get", reverse("applications:organisation-update", args=[pk, org_pk])),
        ("post", reverse("applications:organisation-update", args=[pk, org_pk])),
        ("get", reverse("applications:organisation-delete", args=[pk, org_pk])),
        ("post", reverse("applications:organisation-delete", args=[pk, org_pk])),
        ("get", reverse("applications:team", args=[pk])),
        ("post", reverse("applications:team", args=[pk])),
    ]


def test_user_of_another_consortium_gets_404_everywhere(client):
    organisation = OrganisationFactory()
    consortium = organisation.consortium
    other_owner = ConsortiumFactory().created_by
    sign_in(client, other_owner)

    statuses = [
        (method, url, getattr(client, method)(url, CONSORTIUM_DATA if method == "post" else None).status_code)
        for method, url in consortium_urls(consortium, organisation)
    ]

    assert [status for _, _, status in statuses] == [404] * len(statuses), statuses
    consortium.refresh_from_db()
    assert consortium.name != CONSORTIUM_DATA["name"]
    assert Organisation.objects.filter(pk=organisation.pk).exists()


def test_organisation_of_another_consortium_gets_404_through_my_consortium(client):
    mine = ConsortiumFactory()
    foreign_organisation = OrganisationFactory()
    sign_in(client, mine.created_by)

    response = client.post(
        reverse("applications:organisation-delete", args=[mine.pk, foreign_organisation.pk]),
    )

    assert response.status_code == 404
    assert Organisation.objects.filter(pk=foreign_organisation.pk).exists()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url_name", ["applications:consortium-update", "applications:organisation-create"])
def test_reader_gets_403_on_changes(client, method, url_name):
    consortium = ConsortiumFactory()
    reader = add_member(consortium, Membership.Role.READER).user
    sign_in(client, reader)

    response = getattr(client, method)(reverse(url_name, args=[consortium.pk]), ORGANISATION_DATA)

    assert response.status_code == 403
    assert consortium.organisations.count() == 0


def test_reader_gets_403_on_organisation_update_and_delete(client):
    organisation = OrganisationFactory()
    reader = add_member(organisation.consortium, Membership.Role.READER).user
    sign_in(client, reader)
    args = [organisation.consortium.pk, organisation.pk]

    update = client.post(reverse("applications:organisation-update", args=args), ORGANISATION_DATA)
    delete = client.post(reverse("applications:organisation-delete", args=args))

    assert (update.status_code, delete.status_code) == (403, 403)
    assert Organisation.objects.filter(pk=organisation.pk).exists()


def test_anonymous_is_redirected_to_login(client):
    organisation = OrganisationFactory()
    urls = [reverse("applications:consortium-create")] + [
        url for _, url in consortium_urls(organisation.consortium, organisation)
    ]

    locations = [client.get(url)["Location"] for url in urls]

    assert [location.split("?")[0] for location in locations] == [reverse("account_login")] * len(urls)


# --- Composition rules ---


def test_composition_with_only_ess_organisations_lacks_another_kind():
    call = make_call(min_ess_members=1, min_other_members=1)
    consortium = ConsortiumFactory()
    OrganisationFactory(consortium=consortium, kind=OrganisationKind.ESS_ASSOCIATION, is_lead=True)
    OrganisationFactory(consortium=consortium, kind=OrganisationKind.ESS_COOPERATIVE)

    problems = composition_problems(consortium, call)

    assert problems == [
        "Le pôle doit associer au moins 1 organisation d'une autre nature (entreprise commerciale, "
        "collectivité territoriale, centre de recherche, organisme de formation…)."
    ]


def test_composition_with_ess_and_commercial_and_a_lead_is_fine():
    call = make_call(min_ess_members=1, min_other_members=1)
    consortium = ConsortiumFactory()
    OrganisationFactory(consortium=consortium, kind=OrganisationKind.ESS_ASSOCIATION, is_lead=True)
    OrganisationFactory(consortium=consortium, kind=OrganisationKind.COMMERCIAL)

    assert composition_problems(consortium, call) == []


def test_composition_without_lead_is_reported():
    call = make_call(min_ess_members=1, min_other_members=1)
    consortium = ConsortiumFactory()
    OrganisationFactory(consortium=consortium, kind=OrganisationKind.ESUS_ENTERPRISE)
    OrganisationFactory(consortium=consortium, kind=OrganisationKind.LOCAL_AUTHORITY)

    assert composition_problems(consortium, call) == [
        "Le pôle doit désigner sa structure porteuse parmi ses organisations."
    ]


def test_composition_counts_against_the_calls_minimums():
    call = make_call(min_ess_members=2, min_other_members=0)
    consortium = ConsortiumFactory()
    OrganisationFactory(consortium=consortium, kind=OrganisationKind.ESS_MUTUAL, is_lead=True)

    assert composition_problems(consortium, call) == [
        "Le pôle doit associer au moins 2 structures de l'économie sociale et solidaire "
        "(association, coopérative, mutuelle, fondation ou entreprise ESUS)."
    ]


def test_user_outside_any_consortium_can_create_one(client):
    user = UserFactory()
    sign_in(client, user)

    response = client.post(reverse("applications:consortium-create"), CONSORTIUM_DATA)

    assert response.status_code == 302
    assert Consortium.objects.get().memberships.get().user == user
