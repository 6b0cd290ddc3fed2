import pytest
from django.core.exceptions import ValidationError

from applications.models import Membership
from applications.tests.factories import OrganisationFactory, add_member
from reviews import services
from reviews.models import Assignment, Conflict
from reviews.tests.factories import ReviewerFactory, submitted_dossier


@pytest.fixture
def dossier(db):
    dossier = submitted_dossier()
    OrganisationFactory(consortium=dossier.consortium, siret="73282932000074", email_domain="halage.example")
    return dossier


def test_same_siren_with_another_establishment_is_a_conflict(dossier):
    reviewer = ReviewerFactory(profile={"sirets": ["73282932000082"]})

    assert services.detect_conflicts(dossier.call) == 1
    conflict = Conflict.objects.get()
    assert (conflict.reviewer, conflict.dossier, conflict.source) == (reviewer, dossier, Conflict.Source.SIREN)


def test_same_email_domain_as_an_organisation_or_a_team_member_is_a_conflict(dossier):
    by_org = ReviewerFactory(email="relecteur@halage.example")
    add_member(dossier.consortium, Membership.Role.EDITOR, user=ReviewerFactory(email="x@cooperative.example"))
    by_member = ReviewerFactory(profile={"email_domains": ["cooperative.example"]})

    services.detect_conflicts(dossier.call)

    assert set(Conflict.objects.values_list("reviewer", "source")) == {
        (by_org.pk, Conflict.Source.DOMAIN),
        (by_member.pk, Conflict.Source.DOMAIN),
        # the team member is himself a reviewer here: his own domain matches too
        (dossier.consortium.memberships.get(role="editor").user_id, Conflict.Source.DOMAIN),
    }


def test_public_mail_providers_do_not_count(dossier):
    add_member(dossier.consortium, Membership.Role.EDITOR, user=ReviewerFactory(email="porteur@gmail.com"))
    ReviewerFactory(email="evaluateur@gmail.com", profile={"email_domains": ["orange.fr"]})

    services.detect_conflicts(dossier.call)

    assert (
        Conflict.objects.filter(source=Conflict.Source.DOMAIN).exclude(reviewer__email="porteur@gmail.com").count() == 0
    )


def test_detection_runs_twice_without_duplicates(dossier):
    ReviewerFactory(profile={"sirets": ["73282932000082"]})

    assert (services.detect_conflicts(dossier.call), services.detect_conflicts(dossier.call)) == (1, 0)


def test_a_conflicted_reviewer_cannot_be_assigned_by_hand(dossier, program_staff):
    reviewer = ReviewerFactory(profile={"sirets": ["73282932000082"]})

    with pytest.raises(ValidationError, match="conflit d'intérêts"):
        services.assign_reviewer(dossier, reviewer=reviewer, by=program_staff)
    assert not Assignment.objects.exists()


def test_declaring_a_conflict_withdraws_the_assignment(dossier, program_staff):
    reviewer = ReviewerFactory()
    assignment = services.assign_reviewer(dossier, reviewer=reviewer, by=program_staff)

    services.record_conflict(
        dossier, reviewer=reviewer, source=Conflict.Source.DECLARED, reason="Ancien salarié", by=reviewer
    )

    assert not Assignment.objects.filter(pk=assignment.pk).exists()
    assert Assignment.history.filter(id=assignment.pk, history_type="-").count() == 1
