"""The objects and signed-in users of the authorization matrix (test_authorization_matrix.py).

One consortium (the pole) with an owner, an editor and a reader; a draft dossier in an open
call and a laureate dossier in a closed call whose results are published, with everything the
portal's pages can show of it (submission, PDF, attachments, thread, reviews, award, letter,
reports); reviewers assigned, conflicted and not assigned; program staff and superusers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from applications.models import Attachment, Dossier, Invitation, Membership, Submission
from applications.tests.factories import (
    PDF_BYTES,
    CallFactory,
    ConsortiumFactory,
    DossierFactory,
    OrganisationFactory,
    add_member,
)
from awards.models import ActivityReport, Award, Decision, DecisionLetter, Tranche
from jobs.models import Heartbeat, Job
from reviews.models import Assignment, Conflict, Message, Review, ReviewUnlock
from reviews.tests.factories import ReviewerFactory, criteria_for

ROLES = (
    "anonymous",
    "outsider",  # applicant, owner of another consortium
    "reader",  # members of the dossier's consortium, by membership role
    "editor",
    "owner",
    "reviewer",  # reviewer without an assignment on the dossier
    "assigned",  # reviewer assigned to the laureate dossier, no conflict
    "conflicted",  # reviewer assigned to it with a recorded conflict of interest
    "staff",  # program staff
    "superuser",
)


@dataclass
class World:
    users: dict[str, object] = field(default_factory=dict)
    objects: dict[str, object] = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None


def _pdf(name: str) -> ContentFile:
    return ContentFile(PDF_BYTES, name=name)


def _statuts(dossier, *, by) -> Attachment:
    """A stored "statuts.pdf" of the first attachment type of the dossier's call."""
    attachment = Attachment(
        dossier=dossier,
        type=dossier.call.attachment_types.first(),
        original_name="statuts.pdf",
        content_type="application/pdf",
        size=len(PDF_BYTES),
        sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
        uploaded_by=by,
    )
    attachment.file.save("statuts.pdf", _pdf("statuts.pdf"), save=False)
    attachment.save()
    return attachment


def build_world() -> World:
    now = timezone.now()
    world = World()
    users = world.users
    users["anonymous"] = None

    open_call = CallFactory(slug="matrice-ouvert", reference_prefix="MAT-O")
    closed_call = CallFactory(
        slug="matrice-clos",
        reference_prefix="MAT-C",
        opens_at=now - dt.timedelta(days=120),
        closes_at=now - dt.timedelta(days=60),
        closed_at=now - dt.timedelta(days=60),
        results_published_at=now - dt.timedelta(days=5),
    )
    criteria = criteria_for(closed_call)

    consortium = ConsortiumFactory(name="Pôle de la matrice")
    users["owner"] = consortium.created_by
    users["editor"] = add_member(consortium, Membership.Role.EDITOR).user
    users["reader"] = add_member(consortium, Membership.Role.READER).user
    organisation = OrganisationFactory(consortium=consortium, is_lead=True)
    other = ConsortiumFactory(name="Pôle voisin")
    users["outsider"] = other.created_by
    DossierFactory(call=open_call, consortium=other)

    reviewer, assigned, conflicted = ReviewerFactory(), ReviewerFactory(), ReviewerFactory()
    users.update(reviewer=reviewer, assigned=assigned, conflicted=conflicted)
    users["staff"] = UserFactory(role=Role.PROGRAM_STAFF)
    users["superuser"] = UserFactory(is_superuser=True, is_staff=True)
    # Whose account the admin's user pages are requested on: another superuser's.
    target_user = UserFactory(is_superuser=True, is_staff=True)

    # The draft: what the team edits before the deadline.
    draft = DossierFactory(call=open_call, consortium=consortium)
    draft_attachment = _statuts(draft, by=users["owner"])

    # The laureate: submitted, reviewed, decided, published.
    laureate = DossierFactory(
        call=closed_call, consortium=consortium, status=Dossier.Status.LAUREATE, number=1, reference="MAT-C-0001"
    )
    attachment = _statuts(laureate, by=users["owner"])
    submission = Submission(
        dossier=laureate,
        version=1,
        reference=laureate.reference,
        submitted_at=now - dt.timedelta(days=70),
        submitted_by=users["owner"],
        content={"attachments": [{"uuid": str(attachment.uuid), "name": attachment.original_name}]},
        content_sha256="0" * 64,
        pdf_sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
        pdf_rendered_at=now - dt.timedelta(days=70),
    )
    submission.pdf.save("MAT-C-0001.pdf", _pdf("MAT-C-0001.pdf"), save=False)
    submission.save()
    laureate.current_submission = submission
    laureate.save()

    message = Message(dossier=laureate, author=users["staff"], from_staff=True, body="Précisez le budget.")
    message.attachment.save("question.pdf", _pdf("question.pdf"), save=False)
    message.attachment_name = "question.pdf"
    message.save()

    assignment = Assignment.objects.create(
        reviewer=assigned, dossier=laureate, no_conflict_confirmed_at=now - dt.timedelta(days=50)
    )
    conflicted_assignment = Assignment.objects.create(
        reviewer=conflicted, dossier=laureate, no_conflict_confirmed_at=now - dt.timedelta(days=50)
    )
    conflict = Conflict.objects.create(
        reviewer=conflicted, dossier=laureate, source=Conflict.Source.DECLARED, reason="Ancien administrateur"
    )
    review = Review.objects.create(assignment=assignment, status=Review.Status.DRAFT, overall_comment="À compléter")
    unlock = ReviewUnlock.objects.create(review=review, by=users["staff"], reason="Note saisie par erreur")

    decision = Decision.objects.create(
        dossier=laureate,
        outcome=Decision.Outcome.LAUREATE,
        committee_date=(now - dt.timedelta(days=20)).date(),
        decided_by=users["staff"],
    )
    award = Award.objects.create(decision=decision, call=closed_call, amounts=[90_000, 80_000, 70_000], total=240_000)
    Tranche.objects.create(award=award, position=1, planned_date=dt.date(2014, 3, 1), amount=240_000)
    report = ActivityReport(
        award=award, year_index=1, original_name="rapport-2014.pdf", sha256="0" * 64, uploaded_by=users["owner"]
    )
    report.file.save("rapport-2014.pdf", _pdf("rapport-2014.pdf"), save=False)
    report.save()
    letter = DecisionLetter(
        decision=decision,
        recipients=[users["owner"].email],
        subject="Décision du comité",
        body="Votre pôle est lauréat.",
        pdf_rendered_at=now - dt.timedelta(days=4),
        released_at=now - dt.timedelta(days=4),
        released_by=users["staff"],
    )
    letter.pdf.save("lettre.pdf", _pdf("lettre.pdf"), save=False)
    letter.save()

    invitation = Invitation.objects.create(
        consortium=consortium,
        email="invitee@exemple.fr",
        role=Membership.Role.EDITOR,
        token="jeton-de-la-matrice",
        invited_by=users["owner"],
        expires_at=now + dt.timedelta(days=14),
    )
    if apps.is_installed("audit"):
        digest_model = apps.get_model("audit", "AuditDigest")
        world.objects["audit_digest"] = digest_model.objects.create(
            date=now.date() - dt.timedelta(days=1), last_sequence=0, head_hash="0" * 64
        )
    job = Job.objects.create(task_name="applications.tasks.render_submission_pdf_task", kwargs={"pk": submission.pk})
    heartbeat = Heartbeat.objects.create(name="beat", at=now)

    world.objects.update(
        open_call=open_call,
        closed_call=closed_call,
        consortium=consortium,
        organisation=organisation,
        draft=draft,
        draft_attachment=draft_attachment,
        laureate=laureate,
        attachment=attachment,
        submission=submission,
        message=message,
        assignment=assignment,
        conflicted_assignment=conflicted_assignment,
        conflict=conflict,
        criterion=criteria[0],
        profile=assigned.reviewer_profile,
        review=review,
        unlock=unlock,
        decision=decision,
        award=award,
        report=report,
        letter=letter,
        invitation=invitation,
        job=job,
        heartbeat=heartbeat,
        target_user=target_user,
        email_address=EmailAddress.objects.get(user=users["owner"]),
        group=Group.objects.get(name=Role.APPLICANT.label),
    )
    return world
