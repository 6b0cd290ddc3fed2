import pytest
from django.core import mail

from applications.models import Dossier, Membership
from applications.tests.factories import CallFactory, add_member
from applications.tests.pdfs import pdf_text
from awards import services
from awards.models import Decision, DecisionLetter
from awards.tests.factories import COMMITTEE, submitted_with_request
from jobs.tests.outbox import run_pending_jobs


@pytest.fixture
def decided(db, program_staff, media):
    call = CallFactory(envelope=3_000_000)
    winner = submitted_with_request(call, (90_000, 80_000, 70_000))
    add_member(winner.consortium, Membership.Role.EDITOR)
    loser = submitted_with_request(call)
    services.record_decision(winner, outcome=Decision.Outcome.LAUREATE, committee_date=COMMITTEE, by=program_staff)
    services.record_decision(
        loser,
        outcome=Decision.Outcome.NOT_SELECTED,
        committee_date=COMMITTEE,
        rationale="Budget fragile",
        by=program_staff,
    )
    return call, winner, loser


def test_publication_sets_final_statuses_and_drafts_one_letter_per_dossier(decided, program_staff):
    call, winner, loser = decided

    created = services.publish_results(call, by=program_staff)
    again = services.publish_results(call, by=program_staff)

    winner.refresh_from_db()
    loser.refresh_from_db()
    assert (created, again) == (2, 0)
    assert (winner.status, loser.status) == (Dossier.Status.LAUREATE, Dossier.Status.NOT_SELECTED)
    letter = DecisionLetter.objects.get(decision__dossier=winner)
    assert letter.recipients == sorted(winner.consortium.memberships.values_list("user__email", flat=True))
    assert "lauréat" in letter.body
    assert "Voies et délais de recours" in letter.body
    assert len(mail.outbox) == 0  # letters wait for staff to release them


def test_released_letters_go_once_per_member_with_the_pdf(decided, program_staff):
    call, winner, _loser = decided
    services.publish_results(call, by=program_staff)
    run_pending_jobs()  # renders the PDFs
    letter = DecisionLetter.objects.get(decision__dossier=winner)
    letter.body = letter.body + "\nMessage relu par l'équipe."
    letter.save()

    services.release_letters(DecisionLetter.objects.all(), by=program_staff)
    services.release_letters(DecisionLetter.objects.all(), by=program_staff)
    services.publish_results(call, by=program_staff)
    run_pending_jobs()
    run_pending_jobs()

    to_winner = [m for m in mail.outbox if winner.reference in m.subject]
    assert sorted(r for m in to_winner for r in m.to) == letter.recipients
    assert all("Message relu par l'équipe." in m.body for m in to_winner)
    assert all(m.attachments[0][2] == "application/pdf" for m in to_winner)
    assert len(mail.outbox) == 3


def test_decision_letters_are_rendered_with_the_portals_stylesheet(decided, program_staff):
    """The letter template names no stylesheet: the renderer applies pdf.css (its page footer)."""
    call, winner, _loser = decided
    services.publish_results(call, by=program_staff)
    run_pending_jobs()  # renders the PDFs

    letter = DecisionLetter.objects.get(decision__dossier=winner)
    with letter.pdf.open("rb") as handle:
        text = pdf_text(handle.read())
    assert winner.reference in text
    assert "page 1 / 1" in text


def test_decisions_cannot_change_after_publication(decided, program_staff):
    call, winner, _loser = decided
    services.publish_results(call, by=program_staff)

    with pytest.raises(Exception, match="publiés"):
        services.record_decision(
            winner, outcome=Decision.Outcome.NOT_SELECTED, committee_date=COMMITTEE, by=program_staff
        )
