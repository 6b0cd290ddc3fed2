from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Dossier, Organisation
from applications.tests.factories import CallFactory
from conftest import sign_in
from reviews.models import Assignment, Conflict
from reviews.tests.factories import ReviewerFactory
from reviews.tests.test_ranking import make_dossiers


def test_staff_run_automatic_assignment_from_the_page(client, program_staff):
    call = CallFactory(reviewers_per_dossier=2)
    dossiers = make_dossiers(call, 6)
    reviewers = [ReviewerFactory(profile={"capacity": 10}) for _ in range(4)]
    Organisation.objects.create(
        consortium=dossiers[0].consortium,
        name="Halage",
        siret="73282932000074",
        legal_form="Association",
        kind="ess_association",
        commune="X",
    )
    conflicted = reviewers[0]
    conflicted.reviewer_profile.sirets = ["73282932000082"]
    conflicted.reviewer_profile.save()
    sign_in(client, program_staff)

    response = client.post(reverse("reviews:assignment", args=[call.slug]))

    assert response.status_code == 200
    assert "12 nouvelle(s) attribution(s)" in response.content.decode()
    per_dossier = {d.pk: Assignment.objects.filter(dossier=d).count() for d in dossiers}
    assert set(per_dossier.values()) == {2}
    loads = sorted(Assignment.objects.filter(reviewer=r).count() for r in reviewers)
    assert loads == [3, 3, 3, 3]
    assert Conflict.objects.filter(reviewer=conflicted, dossier=dossiers[0]).exists()
    assert not Assignment.objects.filter(reviewer=conflicted, dossier=dossiers[0]).exists()

    again = client.post(reverse("reviews:assignment", args=[call.slug]))
    assert "0 nouvelle(s) attribution(s), 12 conservée(s)" in again.content.decode()


def test_uncovered_dossiers_are_named(client, program_staff):
    call = CallFactory(reviewers_per_dossier=2)
    make_dossiers(call, 2)
    ReviewerFactory(profile={"capacity": 5})
    sign_in(client, program_staff)

    page = client.post(reverse("reviews:assignment", args=[call.slug])).content.decode()

    assert "Dossiers qui ne peuvent pas être couverts" in page
    assert page.count("il manque 1 évaluateur(s)") == 2


def reviewer_list_queries(client, reviewer, count):
    call = CallFactory()
    for dossier in make_dossiers(call, count, start=Dossier.objects.count() + 1):
        Assignment.objects.create(reviewer=reviewer, dossier=dossier)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:reviews_assignment_changelist")).status_code == 200
    return len(queries)


def test_reviewer_list_runs_the_same_queries_at_10_and_500(client, db):
    first, second = ReviewerFactory(), ReviewerFactory()
    sign_in(client, first)
    small = reviewer_list_queries(client, first, 10)
    sign_in(client, second)
    large = reviewer_list_queries(client, second, 500)
    assert small == large <= 25  # reviewer pages: issue 8
