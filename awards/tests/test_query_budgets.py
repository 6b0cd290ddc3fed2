"""Query budgets of the awards pages, admin changelists and open-data exports (issue 8).

Same number of queries at 10 and 500 dossiers (200 for exports, as the staff exports' own test in
test_views.test_exports_cost_the_same_few_queries_for_10_and_200_dossiers), under the ceilings:
staff pages 25, admin changelists 30, exports 10. See ptce_portal/tests/querybudget.py.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.models import Call
from awards.models import Award, Decision, DecisionLetter, Tranche
from awards.tests.factories import COMMITTEE, bulk_reviewed_call
from conftest import sign_in
from ptce_portal.tests.querybudget import ADMIN_CHANGELIST, EXPORT, STAFF_PAGE, assert_query_budget, expect_status

LISTS = (10, 500)
EXPORTS = (10, 200)


def bulk_call(count: int, staff) -> Call:
    """A call with `count` reviewed dossiers (a third with a lead structure), every other one
    laureate with its award, two payment tranches (the first payable) and a decision letter; the
    others on the waiting list. Bulk-created: record_selection() would take minutes at 500."""
    call, dossiers, owner = bulk_reviewed_call(count)
    decisions = Decision.objects.bulk_create(
        [
            Decision(
                dossier=d,
                outcome=Decision.Outcome.LAUREATE if n % 2 == 0 else Decision.Outcome.WAITING_LIST,
                committee_date=COMMITTEE,
                decided_by=staff,
            )
            for n, d in enumerate(dossiers)
        ]
    )
    awards = Award.objects.bulk_create(
        [
            Award(decision=decision, call=call, amounts=[10_000, 10_000, 10_000], total=30_000)
            for decision in decisions
            if decision.outcome == Decision.Outcome.LAUREATE
        ]
    )
    Tranche.objects.bulk_create(
        [
            Tranche(
                award=award,
                position=position,
                planned_date=dt.date(2014, 3 * position, 1),
                amount=15_000,
                status=Tranche.Status.PAYABLE if position == 1 else Tranche.Status.PLANNED,
            )
            for award in awards
            for position in (1, 2)
        ]
    )
    DecisionLetter.objects.bulk_create(
        [
            DecisionLetter(
                decision=decision, recipients=[owner.email], subject=f"Décision {n}", body="Madame, Monsieur"
            )
            for n, decision in enumerate(decisions)
        ]
    )
    return call


def published(call: Call) -> Call:
    Call.objects.filter(pk=call.pk).update(results_published_at=timezone.now())
    return call


# --- Staff pages ---


def test_selection_page(client, program_staff):
    def prepare(size):
        sign_in(client, program_staff)  # a fresh session for each size
        call = bulk_call(size, program_staff)
        return lambda: expect_status(client.get(reverse("awards:selection", args=[call.slug])), 200)

    assert_query_budget(prepare, sizes=LISTS, ceiling=STAFF_PAGE, label="selection console")


def test_decisions_page(client, program_staff):
    def prepare(size):
        sign_in(client, program_staff)  # a fresh session for each size
        call = bulk_call(size, program_staff)
        return lambda: expect_status(client.get(reverse("awards:decisions", args=[call.slug])), 200)

    assert_query_budget(prepare, sizes=LISTS, ceiling=STAFF_PAGE, label="decisions page")


# --- Admin changelists ---


def test_award_changelist(client, program_staff):
    def prepare(size):
        sign_in(client, program_staff)  # a fresh session for each size
        bulk_call(size, program_staff)
        return lambda: expect_status(client.get(reverse("admin:awards_award_changelist")), 200)

    assert_query_budget(prepare, sizes=LISTS, ceiling=ADMIN_CHANGELIST, label="award changelist")


def test_decision_changelist(client, program_staff):
    def prepare(size):
        sign_in(client, program_staff)  # a fresh session for each size
        bulk_call(size, program_staff)
        return lambda: expect_status(client.get(reverse("admin:awards_decision_changelist")), 200)

    assert_query_budget(prepare, sizes=LISTS, ceiling=ADMIN_CHANGELIST, label="decision changelist")


def test_dossier_changelist(client, program_staff):
    def prepare(size):
        sign_in(client, program_staff)  # a fresh session for each size
        bulk_call(size, program_staff)
        return lambda: expect_status(client.get(reverse("admin:applications_dossier_changelist")), 200)

    assert_query_budget(prepare, sizes=LISTS, ceiling=ADMIN_CHANGELIST, label="dossier changelist")


def test_dossier_changelist_reads_no_frozen_content_and_sorts_on_an_index(client, program_staff):
    sign_in(client, program_staff)
    bulk_call(10, program_staff)

    with CaptureQueriesContext(connection) as queries:
        expect_status(client.get(reverse("admin:applications_dossier_changelist")), 200)

    listing = next(
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'ORDER BY "applications_dossier"' in q["sql"]
    )
    assert '"applications_submission"."content"' not in listing
    assert 'ORDER BY "applications_dossier"."call_id" DESC, "applications_dossier"."number" ASC' in listing


# --- Exports (the staff exports have their own test in test_views) ---


def test_decision_admin_export_action(client, program_staff):
    def prepare(size):
        sign_in(client, program_staff)  # a fresh session for each size
        call = bulk_call(size, program_staff)
        ids = [str(pk) for pk in call.dossiers.filter(decision__isnull=False).values_list("decision__pk", flat=True)]
        data = {"action": "export_csv", "_selected_action": ids[:5], "index": 0}
        url = reverse("admin:awards_decision_changelist")
        return lambda: expect_status(client.post(url, data), 200)

    # The changelist machinery around the action is the admin's, the export itself the ceiling's.
    assert_query_budget(prepare, sizes=EXPORTS, ceiling=ADMIN_CHANGELIST, label="decision admin export action")


def test_open_data_csv(client, program_staff):
    def prepare(size):
        call = published(bulk_call(size, program_staff))
        return lambda: expect_status(client.get(reverse("awards:public-csv", args=[call.slug])), 200)

    assert_query_budget(prepare, sizes=EXPORTS, ceiling=EXPORT, label="open data CSV")


def test_open_data_json(client, program_staff):
    def prepare(size):
        call = published(bulk_call(size, program_staff))
        return lambda: expect_status(client.get(reverse("awards:public-json", args=[call.slug])), 200)

    assert_query_budget(prepare, sizes=EXPORTS, ceiling=EXPORT, label="open data JSON")


def test_public_results_page(client, program_staff):
    def prepare(size):
        call = published(bulk_call(size, program_staff))
        return lambda: expect_status(client.get(reverse("awards:public-results", args=[call.slug])), 200)

    assert_query_budget(prepare, sizes=LISTS, ceiling=STAFF_PAGE, label="public results")
