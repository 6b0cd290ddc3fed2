import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from applications.models import Call, Consortium, Dossier
from applications.tests.factories import CallFactory, ConsortiumFactory, OrganisationFactory
from awards import console, proposals, services
from awards.models import Award, Decision
from awards.tests.factories import COMMITTEE, bulk_reviewed_call, submitted_with_request
from conftest import sign_in
from jobs.models import Job
from jobs.tests.outbox import run_pending_jobs
from reviews.models import Assignment, Criterion, Review, Score
from reviews.tests.factories import ReviewerFactory


def reviewed(call, reviewer, score, amounts, *, name=None, eliminated=False):
    """A submitted dossier asking `amounts`, reviewed once with `score` (on 100)."""
    extra = {"consortium": ConsortiumFactory(name=name)} if name else {}
    dossier = submitted_with_request(call, amounts, **extra)
    assignment = Assignment.objects.create(reviewer=reviewer, dossier=dossier)
    review = Review.objects.create(
        assignment=assignment, status=Review.Status.SUBMITTED, weighted_total=score, submitted_at=timezone.now()
    )
    if eliminated:
        criterion, _ = Criterion.objects.get_or_create(
            call=call, name="Ancrage territorial", defaults={"eliminatory_below": 2, "scale_max": 5}
        )
        Score.objects.create(review=review, criterion=criterion, value=1)
    return dossier


@pytest.fixture
def knapsack(db):
    """Greedy is not optimal: the best-ranked dossier alone fills most of the envelope, the next
    two together score more and fit exactly."""
    call = CallFactory(envelope=300_000, target_laureates=3)
    reviewer = ReviewerFactory()
    first = reviewed(call, reviewer, 90, (100_000, 50_000, 50_000), name="Pôle Alpha")
    second = reviewed(call, reviewer, 80, (50_000, 50_000, 50_000), name="Pôle Bêta")
    third = reviewed(call, reviewer, 79, (50_000, 50_000, 50_000), name="Pôle Gamma")
    out = reviewed(call, reviewer, 95, (10_000, 10_000, 10_000), name="Pôle Delta", eliminated=True)
    return call, first, second, third, out


STAFF_PAGES = [
    ("awards:selection", lambda call: [call.slug]),
    ("awards:decisions", lambda call: [call.slug]),
    ("awards:export", lambda call: [call.slug, "laureats", "csv"]),
]


@pytest.mark.parametrize(("name", "args"), STAFF_PAGES)
def test_staff_pages_send_anonymous_users_to_the_login_page(client, db, name, args):
    call = CallFactory()

    response = client.get(reverse(name, args=args(call)))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(("name", "args"), STAFF_PAGES)
@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_staff_pages_refuse_applicants_and_reviewers(client, db, request, name, args, role):
    call = CallFactory()
    sign_in(client, request.getfixturevalue(role))

    response = client.get(reverse(name, args=args(call)))

    assert response.status_code == 403


def test_selection_page_shows_the_exact_proposal_and_what_it_gains_over_the_rank_order(client, program_staff, knapsack):
    call, first, second, third, out = knapsack
    sign_in(client, program_staff)

    response = client.get(reverse("awards:selection", args=[call.slug]), {"ordre": "raw", "couts": "on"})

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["proposal"].selected == (second.pk, third.pk)
    assert response.context["proposal"].greedy == (first.pk,)
    assert "La sélection exacte obtient <strong>69,00 points de plus</strong>" in page
    assert page.count('<span class="badge text-bg-success">Proposé</span>') == 2
    assert "Enveloppe atteinte" in page
    assert "Éliminé : Ancrage territorial" in page
    assert f'name="selected" value="{second.pk},{third.pk}"' in page
    costs = {line.candidate.id: line.cost for line in response.context["lines"] if line.has_cost}
    assert costs[second.pk] == pytest.approx(-69.0)  # without it, the best is the first alone
    assert out.pk not in costs


def test_the_console_shows_one_page_of_dossiers_and_keeps_the_locks_of_the_other_pages(
    client, program_staff, knapsack, monkeypatch
):
    call, first, second, third, out = knapsack
    monkeypatch.setattr(console, "LINES_PER_PAGE", 2)
    sign_in(client, program_staff)
    url = reverse("awards:selection", args=[call.slug])

    # Excluding the third dossier, whose line is on the second page, while reading the first.
    first_page = client.get(url, {"ordre": "raw", "exclure": third.pk})
    second_page = client.get(url, {"ordre": "raw", "exclure": third.pk, "page": 2})

    def shown(response):
        return [line.candidate.id if line.candidate else line.landmark for line in response.context["lines"]]

    assert shown(first_page) == [first.pk, "Enveloppe atteinte", second.pk]
    assert shown(second_page) == [third.pk, "Nombre de lauréats visé atteint", out.pk]
    page = first_page.content.decode()
    assert f'<input type="hidden" form="selection-form" name="exclure" value="{third.pk}">' in page
    assert 'name="page" value="1"' in page
    assert "Dossiers 1 à 2 sur 4." in page
    assert f'href="?ordre=raw&amp;exclure={third.pk}&amp;page=2#titre-classement"' in page
    # The lock holds on every page: the proposal is the first dossier alone.
    assert first_page.context["proposal"].selected == (first.pk,)
    assert second_page.context["proposal"].selected == (first.pk,)
    assert f'name="exclure" value="{third.pk}" id="exclure-{third.pk}" checked' in second_page.content.decode()
    assert f'name="exclure" value="{third.pk}">' not in second_page.content.decode()  # no hidden copy
    # The markers say on which page they are.
    assert first_page.context["marker_pages"] == [("Enveloppe atteinte", 1), ("Nombre de lauréats visé atteint", 2)]
    assert "Nombre de lauréats visé atteint : page 2</a>" in page


def test_the_console_follows_a_score_changed_after_its_results_were_cached(client, program_staff, knapsack):
    call, first, second, third, _out = knapsack
    sign_in(client, program_staff)
    url = reverse("awards:selection", args=[call.slug])
    assert client.get(url, {"ordre": "raw"}).context["proposal"].selected == (second.pk, third.pk)

    # A bulk update, as a data fix would do it: second and third together now score less than first.
    Review.objects.filter(assignment__dossier=third).update(weighted_total=5)

    again = client.get(url, {"ordre": "raw"})
    assert again.context["proposal"].selected == (first.pk,)
    assert [line.score for line in again.context["lines"] if line.candidate][-2:] == [5.0, 95.0]


def test_the_console_shows_a_pole_renamed_or_moved_after_its_results_were_cached(client, program_staff, knapsack):
    call, first, *_ = knapsack
    sign_in(client, program_staff)
    url = reverse("awards:selection", args=[call.slug])
    client.get(url, {"ordre": "raw"})

    Consortium.objects.filter(pk=first.consortium_id).update(name="Pôle Alpha renommé", region="BRE")

    page = client.get(url, {"ordre": "raw"})
    line = next(line for line in page.context["lines"] if line.candidate and line.candidate.id == first.pk)
    assert line.row.dossier.consortium.name == "Pôle Alpha renommé"
    assert line.candidate.region == "Bretagne"
    assert "Minimum — Bretagne" in page.content.decode()


def test_the_console_follows_the_envelope_of_the_call(client, program_staff, knapsack):
    call, first, second, _third, _out = knapsack
    sign_in(client, program_staff)
    url = reverse("awards:selection", args=[call.slug])
    client.get(url, {"ordre": "raw"})

    Call.objects.filter(pk=call.pk).update(envelope=350_000)

    page = client.get(url, {"ordre": "raw"})
    assert page.context["proposal"].selected == (first.pk, second.pk)
    assert "pour une enveloppe de 350 000 €" in page.content.decode().replace("\u202f", " ").replace("\xa0", " ")


def test_the_console_marks_the_envelope_even_when_the_target_number_is_reached_first(client, program_staff, knapsack):
    call, first, second, third, out = knapsack
    Call.objects.filter(pk=call.pk).update(target_laureates=1)
    sign_in(client, program_staff)

    page = client.get(reverse("awards:selection", args=[call.slug]), {"ordre": "raw"})

    shown = [line.candidate.id if line.candidate else line.landmark for line in page.context["lines"]]
    assert shown == [first.pk, "Nombre de lauréats visé atteint", "Enveloppe atteinte", second.pk, third.pk, out.pk]


def test_a_console_page_reads_one_page_of_stored_lines_once_the_call_is_cached(
    client, program_staff, knapsack, monkeypatch
):
    call, *_ = knapsack
    monkeypatch.setattr(console, "LINES_PER_PAGE", 2)
    sign_in(client, program_staff)
    url = reverse("awards:selection", args=[call.slug])
    client.get(url, {"ordre": "raw", "couts": "on"})

    with CaptureQueriesContext(connection) as queries:
        page = client.get(url, {"ordre": "raw", "couts": "on", "page": 2})

    assert len(page.context["lines"]) == 3
    reads = [query["sql"] for query in queries.captured_queries if "reviews_rankeddossier" in query["sql"]]
    assert reads
    assert all('"position_raw" <= 4' in sql for sql in reads), reads


def test_a_large_call_is_solved_by_a_worker_while_the_page_says_so(client, program_staff, knapsack, monkeypatch):
    call, _first, second, third, _out = knapsack
    monkeypatch.setattr(proposals, "SOLVE_IN_REQUEST_UP_TO", 3)  # four candidates: "large"
    sign_in(client, program_staff)
    url = reverse("awards:selection", args=[call.slug])

    waiting = client.get(url, {"ordre": "raw"})
    again = client.get(url, {"ordre": "raw"})
    jobs = Job.objects.filter(task_name="awards.tasks.propose_selection_task")
    assert jobs.count() == 1  # asking again while it computes queues nothing more
    run_pending_jobs()
    solved = client.get(url, {"ordre": "raw"})

    for page in (waiting, again):
        assert page.context["pending"]
        assert page.context["proposal"] is None
        assert "est en cours de calcul par le serveur" in page.content.decode()
        assert '<meta http-equiv="refresh" content="10">' in page.content.decode()
    assert not solved.context["pending"]
    assert solved.context["proposal"].selected == (second.pk, third.pk)
    assert "refresh" not in solved.content.decode()


def test_the_proposal_is_cached_by_its_inputs(client, program_staff, knapsack, monkeypatch):
    call, first, *_ = knapsack
    solved = []
    real = proposals.propose
    monkeypatch.setattr(proposals, "propose", lambda *args: solved.append(1) or real(*args))
    sign_in(client, program_staff)
    url = reverse("awards:selection", args=[call.slug])

    client.get(url, {"ordre": "raw"})
    client.get(url, {"ordre": "raw"})
    locked = client.get(url, {"ordre": "raw", "imposer": first.pk})

    assert len(solved) == 2  # the same inputs twice, then a lock: other inputs
    assert first.pk in locked.context["proposal"].selected


def test_marginal_costs_are_computed_by_default_for_a_small_call_and_on_request(client, program_staff, knapsack):
    call, *_ = knapsack
    sign_in(client, program_staff)
    url = reverse("awards:selection", args=[call.slug])

    default = client.get(url)
    without = client.get(url, {"ordre": "calibrated"})

    assert sum(line.has_cost for line in default.context["lines"]) == 3
    assert sum(line.has_cost for line in without.context["lines"]) == 0


def test_locked_in_dossier_and_quota_change_the_proposal(client, program_staff, knapsack):
    call, first, _second, _third, _out = knapsack
    sign_in(client, program_staff)

    response = client.get(reverse("awards:selection", args=[call.slug]), {"ordre": "raw", "imposer": [first.pk]})

    assert response.context["proposal"].selected == (first.pk,)  # the others no longer fit
    infeasible = client.get(
        reverse("awards:selection", args=[call.slug]), {"ordre": "raw", "priorite_min_rural": "1"}
    ).content.decode()
    assert "Aucune sélection ne respecte ces règles" in infeasible
    assert "exige au moins 1 lauréat pour 0 dossier éligible" in infeasible


def test_minimum_above_maximum_is_shown_next_to_the_field(client, program_staff, knapsack):
    call, *_ = knapsack
    sign_in(client, program_staff)

    response = client.get(reverse("awards:selection", args=[call.slug]), {"region_min_IDF": "3", "region_max_IDF": "1"})

    assert response.context["form"].errors == {"region_max_IDF": ["Le maximum doit être au moins égal au minimum."]}
    assert response.context["proposal"] is None


def test_accepting_the_proposal_records_every_decision_in_one_step(client, program_staff, knapsack):
    call, first, second, third, out = knapsack
    sign_in(client, program_staff)
    url = reverse("awards:selection", args=[call.slug]) + "?ordre=raw"

    response = client.post(
        url,
        {
            "action": "accept",
            "selected": f"{second.pk},{third.pk}",
            "committee_date": "2014-01-15",
            "rationale": "Comité du 15 janvier",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("awards:decisions", args=[call.slug])
    outcomes = dict(Decision.objects.values_list("dossier_id", "outcome"))
    assert outcomes == {
        first.pk: Decision.Outcome.WAITING_LIST,
        second.pk: Decision.Outcome.LAUREATE,
        third.pk: Decision.Outcome.LAUREATE,
        out.pk: Decision.Outcome.NOT_SELECTED,
    }
    assert sorted(Award.objects.values_list("total", flat=True)) == [150_000, 150_000]
    assert set(Decision.objects.values_list("committee_date", "rationale")) == {(COMMITTEE, "Comité du 15 janvier")}
    assert Dossier.objects.get(pk=second.pk).status == Dossier.Status.UNDER_REVIEW  # nothing public yet


def test_accepting_a_selection_over_the_envelope_is_refused_and_records_nothing(client, program_staff, knapsack):
    call, first, second, _third, _out = knapsack
    sign_in(client, program_staff)

    response = client.post(
        reverse("awards:selection", args=[call.slug]),
        {"action": "accept", "selected": f"{first.pk},{second.pk}", "committee_date": "2014-01-15"},
    )

    assert response.status_code == 200
    assert "La sélection demande 350\u202f000\u00a0€ pour une enveloppe de 300\u202f000\u00a0€" in (
        response.content.decode()
    )
    assert Decision.objects.count() == 0


def test_accepting_without_a_committee_date_keeps_the_page_with_the_error(client, program_staff, knapsack):
    call, _first, second, third, _out = knapsack
    sign_in(client, program_staff)

    response = client.post(
        reverse("awards:selection", args=[call.slug]), {"action": "accept", "selected": f"{second.pk},{third.pk}"}
    )

    assert response.context["accept_form"].errors == {"committee_date": ["Ce champ est obligatoire."]}
    assert Decision.objects.count() == 0


def test_verifiable_draw_shows_the_commitment_before_revealing_the_seed(client, program_staff, knapsack):
    call, _first, second, third, _out = knapsack
    sign_in(client, program_staff)
    url = reverse("awards:selection", args=[call.slug]) + "?ordre=raw"

    client.post(url, {"action": "prepare-draw", "ids": f"{second.pk},{third.pk}"})
    prepared = client.get(url)
    client.post(url, {"action": "draw"})
    drawn = client.get(url)

    draw = prepared.context["draw"]
    assert len(draw["commitment"]) == 64
    assert draw["drawn"] is False
    assert "seed" not in draw
    assert drawn.context["draw"]["commitment"] == draw["commitment"]
    assert drawn.context["draw"]["verified"] is True
    assert drawn.context["draw"]["seed"] in drawn.content.decode()
    assert sorted(drawn.context["draw"]["order"]) == sorted([second.reference, third.reference])


def test_ties_at_the_cut_are_listed_with_the_published_tie_break(client, program_staff, db):
    call = CallFactory(envelope=300_000, target_laureates=1)
    reviewer = ReviewerFactory()
    tied = [reviewed(call, reviewer, 80, (50_000, 50_000, 50_000)) for _ in range(2)]
    sign_in(client, program_staff)

    response = client.get(reverse("awards:selection", args=[call.slug]), {"ordre": "raw"})

    html = response.content.decode()
    (group,) = response.context["ties"]
    assert "À note égale, le classement publié départage" in html
    # Both dossiers, each with its note; the one of them the proposal keeps (one laureate) says so.
    for dossier in tied:
        assert f"<li>{dossier.reference} — 80,00 points" in html
    assert html.count(" points (proposé)</li>") == 1
    # The draw's form carries the group's ids.
    assert sorted(group.ids.split(",")) == sorted(str(dossier.pk) for dossier in tied)
    assert f'name="ids" value="{group.ids}"' in html
    assert "Préparer un tirage au sort entre ces dossiers" in html


# --- Decisions page ---


@pytest.fixture
def decided(knapsack, program_staff):
    call, _first, second, third, _out = knapsack
    services.record_selection(
        call, selected_ids=[second.pk, third.pk], committee_date=COMMITTEE, rationale="", by=program_staff
    )
    return knapsack


def test_decisions_page_shows_the_ledger_and_says_nothing_is_public_yet(client, program_staff, decided):
    call, *_ = decided
    sign_in(client, program_staff)

    page = client.get(reverse("awards:decisions", args=[call.slug])).content.decode()

    assert "Rien de ces décisions n'est visible des porteurs de projet ni du public" in page
    assert "attribué : <strong>300\u202f000\u00a0€</strong> ; reste : <strong>0\u00a0€</strong>" in page
    assert "Lauréats : <strong>2</strong> pour 3 visés." in page
    assert reverse("awards:export", args=[call.slug, "laureats", "xlsx"]) in page


def test_publishing_twice_drafts_the_letters_once_and_released_letters_go_once_per_member(
    client, program_staff, decided, media
):
    from django.core import mail

    from jobs.tests.outbox import run_pending_jobs

    call, first, second, third, out = decided
    sign_in(client, program_staff)
    url = reverse("awards:decisions", args=[call.slug])

    first_time = client.post(url, {"action": "publish"}, follow=True).content.decode()
    second_time = client.post(url, {"action": "publish"}, follow=True).content.decode()
    run_pending_jobs()  # renders the PDFs
    client.post(url, {"action": "release"})
    client.post(url, {"action": "release"})
    run_pending_jobs()
    run_pending_jobs()

    assert "Résultats publiés. 4 lettre(s) de décision préparée(s)" in first_time
    assert "Résultats publiés. 0 lettre(s) de décision préparée(s)" in second_time
    members = sorted(
        email for dossier in (first, second, third, out) for email in [dossier.consortium.created_by.email]
    )
    assert sorted(recipient for message in mail.outbox for recipient in message.to) == members


# --- Exports ---

HYPERLINK = '=HYPERLINK("http://x")'


@pytest.fixture
def exported(knapsack, program_staff):
    call, _first, second, third, _out = knapsack
    second.consortium.name = HYPERLINK
    second.consortium.save()
    OrganisationFactory(consortium=second.consortium, is_lead=True, name="Association Halage", siret="73282932000074")
    services.record_selection(
        call, selected_ids=[second.pk, third.pk], committee_date=COMMITTEE, rationale="", by=program_staff
    )
    return knapsack


def test_laureates_csv_is_streamed_with_bom_semicolons_and_inert_formulas(client, program_staff, exported):
    call, _first, second, third, _out = exported
    sign_in(client, program_staff)

    response = client.get(reverse("awards:export", args=[call.slug, "laureats", "csv"]))

    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{call.slug}-laureats.csv"'
    assert body.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))
    assert lines[0][-4:] == ["Montant 2014", "Montant 2015", "Montant 2016", "Total"]
    assert [line[0] for line in lines[1:]] == [second.reference, third.reference]
    assert lines[1][1:4] == ["'" + HYPERLINK, "Association Halage", "73282932000074"]
    assert lines[1][12:] == ["Lauréat", "50000", "50000", "50000", "150000"]


def test_full_list_csv_has_every_ranked_dossier_with_its_request_and_decision(client, program_staff, exported):
    call, first, second, third, out = exported
    sign_in(client, program_staff)

    response = client.get(reverse("awards:export", args=[call.slug, "dossiers", "csv"]))

    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()[1:]), delimiter=";"))
    by_reference = {line[0]: line for line in lines[1:]}
    assert [line[0] for line in lines[1:]] == [first.reference, second.reference, third.reference, out.reference]
    assert by_reference[first.reference][10:] == ["90", "90", "Liste d'attente", "100000", "50000", "50000", "200000"]
    assert by_reference[out.reference][12] == "Non retenu"


def test_laureates_xlsx_is_typed_with_totals_and_the_formula_kept_as_text(client, program_staff, exported):
    call, _first, second, _third, _out = exported
    sign_in(client, program_staff)

    response = client.get(reverse("awards:export", args=[call.slug, "laureats", "xlsx"]))

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == f'attachment; filename="{call.slug}-laureats.xlsx"'
    content = b"".join(response.streaming_content)  # sent from a temporary file, with its length
    assert int(response["Content-Length"]) == len(content)
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:2] == (second.reference, HYPERLINK)
    assert sheet["B2"].data_type == "s"
    assert rows[1][10:] == (80, 80, "Lauréat", 50_000, 50_000, 50_000, 150_000)
    assert rows[3][0] == "Total"
    assert rows[3][-4:] == (100_000, 100_000, 100_000, 300_000)


def test_laureates_pdf_lists_the_laureates_and_the_total(client, program_staff, exported):
    call, _first, second, third, _out = exported
    sign_in(client, program_staff)

    response = client.get(reverse("awards:export", args=[call.slug, "laureats", "pdf"]))

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{call.slug}-laureats.pdf"'
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert second.reference in text
    assert third.reference in text
    assert "HYPERLINK" in text
    assert "300 000" in text.replace("\u202f", " ").replace("\u00a0", " ")


def bulk_call(count: int, staff):
    """A call with `count` reviewed dossiers, a third of them with a lead structure, every other one laureate."""
    call, dossiers, _owner = bulk_reviewed_call(count)
    services.record_selection(
        call, selected_ids=[d.pk for d in dossiers[::2]], committee_date=COMMITTEE, rationale="", by=staff
    )
    return call


def export_queries(client, call, liste, fmt) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("awards:export", args=[call.slug, liste, fmt]))
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


def test_exports_cost_the_same_few_queries_for_10_and_200_dossiers(client, program_staff):
    small, large = bulk_call(10, program_staff), bulk_call(200, program_staff)
    sign_in(client, program_staff)
    export_queries(client, small, "laureats", "csv")  # the first request of a session warms it up

    counts = {
        (liste, fmt): (export_queries(client, small, liste, fmt), export_queries(client, large, liste, fmt))
        for liste in ("laureats", "dossiers")
        for fmt in ("csv", "xlsx", "pdf")
    }

    assert all(at_10 == at_200 <= 10 for at_10, at_200 in counts.values()), counts
