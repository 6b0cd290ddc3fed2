from django.urls import reverse

from conftest import sign_in
from reviews.models import Criterion
from reviews.tests.factories import assignment, criteria_for, submitted_dossier


def post_weight(client, criterion, weight):
    return client.post(
        reverse("admin:reviews_criterion_change", args=[criterion.pk]),
        {
            "call": criterion.call_id,
            "name": criterion.name,
            "guidance": "",
            "weight": weight,
            "scale_max": criterion.scale_max,
            "position": criterion.position,
        },
    )


def test_staff_edit_criteria_until_reviewing_starts_then_they_are_frozen(client, program_staff):
    dossier = submitted_dossier()
    criterion = criteria_for(dossier.call)[0]
    sign_in(client, program_staff)

    post_weight(client, criterion, 5)
    criterion.refresh_from_db()
    assert criterion.weight == 5

    assignment(dossier=dossier)
    post_weight(client, criterion, 1)
    criterion.refresh_from_db()
    assert criterion.weight == 5
    page = client.get(reverse("admin:reviews_criterion_change", args=[criterion.pk])).content.decode()
    assert 'name="weight"' not in page


def test_ptce_grid_has_a_not_applicable_criterion_and_thresholds(db):
    from applications.tests.factories import CallFactory
    from reviews.criteria import ensure_ptce_criteria

    call = CallFactory()

    assert ensure_ptce_criteria(call) == 6
    assert ensure_ptce_criteria(call) == 0
    assert list(
        Criterion.objects.filter(call=call, eliminatory_below__isnull=False).values_list("name", flat=True)
    ) == [
        "Emplois non délocalisables",
        "Coopération et mutualisation",
    ]
