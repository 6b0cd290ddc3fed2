import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Membership
from applications.tests.factories import CallFactory, ConsortiumFactory, add_member
from awards import services
from awards.models import ActivityReport, Decision, DecisionLetter
from awards.tests.factories import COMMITTEE, submitted_with_request
from conftest import sign_in
from jobs.tests.outbox import run_pending_jobs

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def decided(db, program_staff):
    call = CallFactory(slug="ptce-2013", envelope=3_000_000, first_funding_year=2014)
    winner = submitted_with_request(
        call, (90_000, 80_000, 70_000), consortium=ConsortiumFactory(name="Cité Phares", communes="L'Île-Saint-Denis")
    )
    loser = submitted_with_request(call, (100_000, 100_000, 100_000), consortium=ConsortiumFactory(name="Pôle Sud"))
    services.record_decision(winner, outcome=Decision.Outcome.LAUREATE, committee_date=COMMITTEE, by=program_staff)
    services.record_decision(loser, outcome=Decision.Outcome.NOT_SELECTED, committee_date=COMMITTEE, by=program_staff)
    return call, winner, loser


def publish(call, staff):
    services.publish_results(call, by=staff)


PUBLIC_PAGES = ["awards:public-results", "awards:public-data", "awards:public-csv", "awards:public-json"]


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_nothing_public_before_publication(client, decided, name):
    call, _winner, _loser = decided

    response = client.get(reverse(name, args=[call.slug]))

    assert response.status_code == 404


def test_applicants_see_no_decision_before_publication(client, decided):
    _call, winner, _loser = decided
    sign_in(client, winner.consortium.created_by)

    page = client.get(reverse("applications:dossier-overview", args=[winner.pk])).content.decode()

    assert "Décision du comité" not in page
    assert "Lauréat" not in page
    assert "90\u202f000" not in page
    assert client.get(reverse("awards:reports", args=[winner.pk])).status_code == 404


def test_public_results_list_the_laureates_with_french_amounts(client, decided, program_staff):
    call, _winner, _loser = decided
    publish(call, program_staff)

    page = client.get(reverse("awards:public-results", args=[call.slug])).content.decode()

    assert "Cité Phares" in page
    assert "Pôle Sud" not in page
    assert "L&#x27;Île-Saint-Denis" in page
    assert "90\u202f000\u00a0€" in page
    assert "240\u202f000\u00a0€" in page
    assert "1 pôle lauréat," in page


def test_open_data_csv_and_json_carry_the_documented_columns(client, decided, program_staff):
    call, winner, _loser = decided
    publish(call, program_staff)

    csv_response = client.get(reverse("awards:public-csv", args=[call.slug]))
    json_response = client.get(reverse("awards:public-json", args=[call.slug]))
    documented = client.get(reverse("awards:public-data", args=[call.slug])).context["columns"]

    names = [column.name for column in documented]
    assert names == [
        "numero",
        "pole",
        "communes",
        "departement",
        "region",
        "priorite_territoriale",
        "montant_2014",
        "montant_2015",
        "montant_2016",
        "total",
    ]
    assert csv_response["Content-Disposition"] == 'attachment; filename="ptce-2013-laureats.csv"'
    rows = list(csv.reader(io.StringIO(csv_response.content.decode().removeprefix("\ufeff")), delimiter=";"))
    assert rows == [
        names,
        [
            winner.reference,
            "Cité Phares",
            "L'Île-Saint-Denis",
            "93",
            "Île-de-France",
            "Quartier prioritaire (quartier populaire)",
            "90000",
            "80000",
            "70000",
            "240000",
        ],
    ]
    data = json.loads(json_response.content)
    assert data["laureats"] == [dict(zip(names, [*rows[1][:6], 90_000, 80_000, 70_000, 240_000], strict=True))]
    assert data["appel"]["annees"] == [2014, 2015, 2016]


def test_open_data_csv_neutralises_a_formula_in_a_pole_name(client, db, program_staff):
    call = CallFactory()
    dossier = submitted_with_request(call, consortium=ConsortiumFactory(name='=HYPERLINK("http://x")'))
    services.record_decision(dossier, outcome=Decision.Outcome.LAUREATE, committee_date=COMMITTEE, by=program_staff)
    publish(call, program_staff)

    body = client.get(reverse("awards:public-csv", args=[call.slug])).content.decode()

    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'


def test_after_publication_the_team_sees_the_decision_tranches_and_released_letter(
    client, decided, program_staff, media
):
    call, winner, _loser = decided
    publish(call, program_staff)
    run_pending_jobs()
    sign_in(client, winner.consortium.created_by)
    url = reverse("applications:dossier-overview", args=[winner.pk])

    before_release = client.get(url).content.decode()
    services.release_letters(DecisionLetter.objects.all(), by=program_staff)
    after_release = client.get(url).content.decode()
    letter = client.get(reverse("awards:letter-pdf", args=[winner.pk]))

    assert "Décision du comité de sélection" in before_release
    assert "<strong>Lauréat</strong>" in before_release
    assert "<strong>240\u00a0000&nbsp;€</strong>" in before_release
    assert "À payer" in before_release
    assert reverse("awards:letter-pdf", args=[winner.pk]) not in before_release
    assert reverse("awards:letter-pdf", args=[winner.pk]) in after_release
    assert letter["Content-Type"] == "application/pdf"
    assert b"".join(letter.streaming_content).startswith(b"%PDF")


def test_the_decision_block_costs_the_same_queries_whatever_the_tranches(client, decided, program_staff):
    call, winner, loser = decided
    publish(call, program_staff)

    def queries(dossier):
        sign_in(client, dossier.consortium.created_by)
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("applications:dossier-overview", args=[dossier.pk]))
        return [q["sql"] for q in captured if "awards_" in q["sql"]]

    assert len(queries(winner)) == 4  # decision, award, tranches, letter
    assert len(queries(loser)) == 2  # decision, letter


# --- Yearly reports ---


@pytest.fixture
def laureate_team(decided, program_staff, media):
    call, winner, _loser = decided
    publish(call, program_staff)
    return winner


def upload(client, dossier, content, name="rapport.pdf", year=1):
    return client.post(
        reverse("awards:reports", args=[dossier.pk]),
        {"year_index": year, "file": SimpleUploadedFile(name, content, content_type="application/pdf")},
    )


def test_a_laureate_team_uploads_its_yearly_report(client, laureate_team):
    sign_in(client, laureate_team.consortium.created_by)

    response = upload(client, laureate_team, PDF)

    report = ActivityReport.objects.get()
    assert response.status_code == 302
    with report.file.open("rb") as handle:
        assert (report.year_index, report.original_name, handle.read()) == (1, "rapport.pdf", PDF)
    page = client.get(reverse("awards:reports", args=[laureate_team.pk])).content.decode()
    assert "rapport.pdf" in page
    download = client.get(reverse("awards:report-download", args=[laureate_team.pk, report.pk]))
    assert b"".join(download.streaming_content) == PDF


def test_an_executable_renamed_pdf_is_refused_next_to_the_field(client, laureate_team):
    sign_in(client, laureate_team.consortium.created_by)

    response = upload(client, laureate_team, b"MZ\x90\x00" + b"\x00" * 200, name="rapport.pdf")

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "file": ["Ce fichier est un programme exécutable : il ne peut pas être déposé."]
    }
    assert "Ce fichier est un programme exécutable" in response.content.decode()
    assert ActivityReport.objects.count() == 0


def test_an_approved_year_is_no_longer_offered(client, laureate_team, program_staff):
    sign_in(client, laureate_team.consortium.created_by)
    upload(client, laureate_team, PDF, year=1)
    services.approve_report(ActivityReport.objects.get(), by=program_staff)

    response = client.get(reverse("awards:reports", args=[laureate_team.pk]))
    refused = upload(client, laureate_team, PDF, year=1)

    assert response.context["form"].fields["year_index"].choices == [(2, "Année 2 (2015)"), (3, "Année 3 (2016)")]
    assert "year_index" in refused.context["form"].errors


def test_readers_list_reports_but_cannot_upload(client, laureate_team):
    reader = add_member(laureate_team.consortium, Membership.Role.READER).user
    sign_in(client, reader)

    page = client.get(reverse("awards:reports", args=[laureate_team.pk]))
    refused = upload(client, laureate_team, PDF)

    assert page.status_code == 200
    assert page.context["form"] is None
    assert refused.status_code == 403
    assert ActivityReport.objects.count() == 0


def test_another_consortium_gets_404_on_reports_and_letter(client, laureate_team, applicant):
    sign_in(client, applicant)

    assert client.get(reverse("awards:reports", args=[laureate_team.pk])).status_code == 404
    assert client.get(reverse("awards:letter-pdf", args=[laureate_team.pk])).status_code == 404


def test_a_team_that_is_not_laureate_has_no_report_page(client, decided, program_staff):
    call, _winner, loser = decided
    publish(call, program_staff)
    sign_in(client, loser.consortium.created_by)

    assert client.get(reverse("awards:reports", args=[loser.pk])).status_code == 404
