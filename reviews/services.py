"""Writes of the review process: conflicts, assignments, reviews. Reads for staff are in ranking.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.roles import Role
from applications.models import Call, Dossier, Membership, Organisation
from jobs.services import enqueue

from .assignment import AssignmentProblem, AssignmentResult, assign_reviewers
from .assignment import Dossier as SolverDossier
from .assignment import Reviewer as SolverReviewer
from .calibration import weighted_total
from .models import Assignment, Conflict, Criterion, Review, ReviewerProfile, ReviewUnlock, Score

# Addresses at these providers say nothing about where a person works.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.fr",
        "yahoo.com",
        "hotmail.fr",
        "hotmail.com",
        "outlook.fr",
        "outlook.com",
        "live.fr",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "neuf.fr",
        "laposte.net",
        "bbox.fr",
        "aol.com",
        "protonmail.com",
        "proton.me",
        "gmx.fr",
        "gmx.com",
        "numericable.fr",
    }
)

REVIEWABLE_STATUSES = (Dossier.Status.SUBMITTED, Dossier.Status.UNDER_REVIEW)


def email_domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().lower() if "@" in address else address.strip().lower()


def meaningful_domains(domains) -> set[str]:
    return {d for d in (email_domain(x) for x in domains if x) if d and d not in PUBLIC_MAIL_DOMAINS}


class ReviewLocked(Exception):
    """The review was submitted: only staff can unlock it."""


# --- Criteria ---


def criteria_frozen(call: Call) -> bool:
    """Criteria stay editable until the first assignment of the call (reviewing has started)."""
    return Assignment.objects.filter(dossier__call=call).exists()


# --- Conflicts ---


def detect_conflicts(call: Call, *, by=None) -> int:
    """Record the conflicts that can be seen in the data, for every reviewer and every dossier
    of the call: the same SIREN as a member organisation (any establishment of the company), or
    the same e-mail domain as a team member or an organisation (public providers ignored).
    Returns how many new conflicts were recorded. A constant number of queries."""
    dossiers = list(
        Dossier.objects.filter(call=call, status__in=REVIEWABLE_STATUSES).values_list("pk", "consortium_id")
    )
    consortium_ids = {consortium_id for _pk, consortium_id in dossiers}
    sirens: dict[int, set[str]] = {}
    domains: dict[int, set[str]] = {}
    for consortium_id, siret, domain in Organisation.objects.filter(consortium_id__in=consortium_ids).values_list(
        "consortium_id", "siret", "email_domain"
    ):
        sirens.setdefault(consortium_id, set()).add(siret[:9])
        domains.setdefault(consortium_id, set()).update(meaningful_domains([domain]))
    for consortium_id, email in Membership.objects.filter(consortium_id__in=consortium_ids).values_list(
        "consortium_id", "user__email"
    ):
        domains.setdefault(consortium_id, set()).update(meaningful_domains([email]))

    new = []
    for profile in ReviewerProfile.objects.select_related("user"):
        reviewer_sirens = {siret[:9] for siret in profile.sirets if siret}
        reviewer_domains = meaningful_domains([*profile.email_domains, profile.user.email])
        for dossier_id, consortium_id in dossiers:
            shared_siren = reviewer_sirens & sirens.get(consortium_id, set())
            shared_domain = reviewer_domains & domains.get(consortium_id, set())
            if shared_siren:
                source, reason = Conflict.Source.SIREN, f"SIREN commun : {', '.join(sorted(shared_siren))}"
            elif shared_domain:
                source, reason = (
                    Conflict.Source.DOMAIN,
                    f"Domaine de messagerie commun : {', '.join(sorted(shared_domain))}",
                )
            else:
                continue
            new.append(
                Conflict(
                    reviewer_id=profile.user_id, dossier_id=dossier_id, source=source, reason=reason, recorded_by=by
                )
            )
    before = Conflict.objects.filter(dossier__call=call).count()
    Conflict.objects.bulk_create(new, ignore_conflicts=True)
    return Conflict.objects.filter(dossier__call=call).count() - before


def record_conflict(dossier: Dossier, *, reviewer, source: str, reason: str, by) -> Conflict:
    """A conflict declared by the reviewer or recorded by staff. An assignment without a
    submitted review is withdrawn: the reviewer must not keep access to the dossier."""
    if not reason.strip():
        raise ValidationError("Indiquez le motif du conflit d'intérêts.")
    with transaction.atomic():
        conflict, _ = Conflict.objects.get_or_create(
            reviewer=reviewer, dossier=dossier, defaults={"source": source, "reason": reason.strip(), "recorded_by": by}
        )
        for assignment in Assignment.objects.filter(reviewer=reviewer, dossier=dossier).select_related("review"):
            review = getattr(assignment, "review", None)
            if review is None or review.status == Review.Status.DRAFT:
                Score.objects.filter(review__assignment=assignment).delete()
                Review.objects.filter(assignment=assignment).delete()
                assignment._history_user = by
                assignment.delete()
    return conflict


def confirm_no_conflict(assignment: Assignment, *, by) -> None:
    if assignment.no_conflict_confirmed_at is None:
        assignment.no_conflict_confirmed_at = timezone.now()
        assignment._history_user = by
        assignment.save(update_fields=["no_conflict_confirmed_at"])


# --- Assignments ---


def assign_reviewer(dossier: Dossier, *, reviewer, by, due_at: dt.datetime | None = None) -> Assignment:
    """Assign one reviewer by hand. Refused for a conflict (recorded or detectable) or a dossier
    that is not submitted."""
    if dossier.status not in REVIEWABLE_STATUSES:
        raise ValidationError("Seuls les dossiers déposés peuvent être évalués.")
    detect_conflicts(dossier.call)
    if Conflict.objects.filter(reviewer=reviewer, dossier=dossier).exists():
        raise ValidationError(f"{reviewer} a un conflit d'intérêts avec ce dossier : il ne peut pas l'évaluer.")
    assignment, _created = Assignment.objects.get_or_create(
        reviewer=reviewer, dossier=dossier, defaults={"assigned_by": by, "due_at": due_at}
    )
    return assignment


# --- Reviews ---


@dataclass(frozen=True)
class ScoreInput:
    criterion_id: int
    value: int | None
    not_applicable: bool = False
    comment: str = ""


def review_for(assignment: Assignment) -> Review:
    review, _ = Review.objects.get_or_create(assignment=assignment)
    return review


def save_review(
    assignment: Assignment,
    *,
    scores: list[ScoreInput],
    recommendation: str,
    overall_comment: str,
    by,
    submit: bool = False,
    criteria: list[Criterion] | None = None,
) -> Review:
    """Save a reviewer's scores as a draft, or submit them (then the review is locked).

    A score must lie within the criterion's scale; "not applicable" only where the criterion
    allows it, and it is a missing value, never a zero. Submission needs every criterion
    scored (or not applicable) and a recommendation.
    """
    if criteria is None:
        criteria = Criterion.objects.filter(call_id=assignment.dossier.call_id)
    criteria = {c.pk: c for c in criteria}
    errors = {}
    for item in scores:
        criterion = criteria.get(item.criterion_id)
        if criterion is None:
            raise ValidationError("Critère inconnu pour cet appel.")
        if item.not_applicable and not criterion.allows_not_applicable:
            errors[item.criterion_id] = "Ce critère ne peut pas être déclaré sans objet."
        elif item.value is not None and not 0 <= item.value <= criterion.scale_max:
            errors[item.criterion_id] = f"La note doit être comprise entre 0 et {criterion.scale_max}."
    given = {item.criterion_id for item in scores if item.not_applicable or item.value is not None}
    if submit:
        for criterion_id in criteria:
            if criterion_id not in given and criterion_id not in errors:
                errors[criterion_id] = "Notez ce critère (ou déclarez-le sans objet) avant de remettre l'évaluation."
        if not recommendation:
            errors["recommendation"] = "Choisissez une recommandation avant de remettre l'évaluation."
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        review = Review.objects.select_for_update().filter(assignment=assignment).first()
        if review is None:
            review = review_for(assignment)
            review = Review.objects.select_for_update().get(pk=review.pk)
        if review.status == Review.Status.SUBMITTED:
            raise ReviewLocked("Cette évaluation a été remise : elle ne peut plus être modifiée.")
        # The review's scores in one read; only the scores that change are written (and recorded
        # in the history), not every criterion of the grid at each save.
        current = {score.criterion_id: score for score in review.scores.all()}
        for item in scores:
            value = None if item.not_applicable else item.value
            score = current.get(item.criterion_id)
            if score is not None and (score.value, score.not_applicable, score.comment) == (
                value,
                item.not_applicable,
                item.comment,
            ):
                continue
            score = score or Score(review=review, criterion_id=item.criterion_id)
            score.value = value
            score.not_applicable = item.not_applicable
            score.comment = item.comment
            score._history_user = by
            score.save()
            current[item.criterion_id] = score
        review.recommendation = recommendation
        review.overall_comment = overall_comment
        review.weighted_total = compute_weighted_total(review, criteria, scores=current.values())
        if submit:
            review.status = Review.Status.SUBMITTED
            review.submitted_at = timezone.now()
        review._history_user = by
        review.save()
    return review


def compute_weighted_total(review: Review, criteria: dict[int, Criterion], *, scores=None) -> Decimal | None:
    """`scores`: the review's scores when the caller has them (else they are read)."""
    values = {score.criterion_id: score.value for score in (review.scores.all() if scores is None else scores)}
    total = weighted_total(
        {criterion_id: values.get(criterion_id) for criterion_id in criteria},
        {criterion_id: criterion.weight for criterion_id, criterion in criteria.items()},
        {criterion_id: criterion.scale_max for criterion_id, criterion in criteria.items()},
    )
    return None if total is None else Decimal(str(round(total, 2)))


def unlock_review(review: Review, *, reason: str, by) -> None:
    """Staff reopen a submitted review for its reviewer, with a reason kept in the trace."""
    if not reason.strip():
        raise ValidationError("Indiquez le motif du déverrouillage.")
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.status != Review.Status.SUBMITTED:
            return
        ReviewUnlock.objects.create(review=review, by=by, reason=reason.strip())
        review.status = Review.Status.DRAFT
        review.submitted_at = None
        review._history_user = by
        review.save(update_fields=["status", "submitted_at"])


# --- Automatic assignment ---


def auto_assign(call: Call, *, by, due_at: dt.datetime | None = None) -> AssignmentResult:
    """Assign k reviewers to every submitted dossier of the call, exactly and deterministically
    (reviews.assignment): capacities, conflicts and the outside-region rule are hard; loads are
    balanced; expertise is preferred. Existing assignments and their reviews are kept.
    Conflicts are detected first. Returns the solver's report (uncovered dossiers, connectivity)."""
    detect_conflicts(call, by=by)
    dossiers = list(
        Dossier.objects.filter(call=call, status__in=REVIEWABLE_STATUSES).select_related("consortium").order_by("pk")
    )
    dossier_ids = [dossier.pk for dossier in dossiers]
    profiles = list(
        ReviewerProfile.objects.filter(user__is_active=True, user__groups__name=Role.REVIEWER.label)
        .select_related("user")
        .annotate(
            other_load=Count("user__assignments", filter=~Q(user__assignments__dossier__call=call), distinct=True)
        )
        .order_by("user_id")
    )
    existing = set(Assignment.objects.filter(dossier_id__in=dossier_ids).values_list("reviewer_id", "dossier_id"))
    conflicts = set(Conflict.objects.filter(dossier_id__in=dossier_ids).values_list("reviewer_id", "dossier_id"))
    problem = AssignmentProblem(
        dossiers=[
            SolverDossier(id=d.pk, region=d.consortium.region, sectors=frozenset(d.consortium.sectors))
            for d in dossiers
        ],
        reviewers=[
            SolverReviewer(
                id=p.user_id,
                capacity=max(p.capacity - p.other_load, 0),
                home_region=p.home_region,
                regions=frozenset(p.regions),
                sectors=frozenset(p.sectors),
            )
            for p in profiles
        ],
        conflicts=conflicts,
        existing=existing,
        k=call.reviewers_per_dossier,
        require_outside_region=call.require_outside_region_reviewer,
    )
    result = assign_reviewers(problem)
    due = due_at or timezone.now() + dt.timedelta(days=settings.REVIEW_DUE_DAYS)
    with transaction.atomic():
        Assignment.objects.bulk_create(
            [
                Assignment(reviewer_id=reviewer_id, dossier_id=dossier_id, assigned_by=by, due_at=due)
                for reviewer_id, dossier_id in result.new_pairs
            ],
            ignore_conflicts=True,
        )
        # Only dossiers that now have a reviewer are under review; uncovered ones stay submitted.
        Dossier.objects.filter(pk__in=dossier_ids, status=Dossier.Status.SUBMITTED, assignments__isnull=False).update(
            status=Dossier.Status.UNDER_REVIEW
        )
    return result


def remind_reviewers(call: Call, *, by) -> int:
    """Queue a reminder e-mail for every reviewer with pending reviews on the call (once a day)."""
    pending = (
        Assignment.objects.filter(dossier__call=call)
        .exclude(review__status=Review.Status.SUBMITTED)
        .values_list("reviewer_id", flat=True)
        .distinct()
    )
    today = timezone.localdate().isoformat()
    count = 0
    for reviewer_id in pending:
        enqueue(
            "reviews.tasks.send_reviewer_reminder_task",
            key=f"reviewer-reminder:{call.pk}:{reviewer_id}:{today}",
            call_id=call.pk,
            reviewer_id=reviewer_id,
        )
        count += 1
    return count


def send_reviewer_reminder(call_id: int, reviewer_id: int) -> int:
    from django.contrib.auth import get_user_model

    call = Call.objects.filter(pk=call_id).first()
    reviewer = get_user_model().objects.filter(pk=reviewer_id, is_active=True).first()
    if call is None or reviewer is None:
        return 0
    pending = list(
        Assignment.objects.of_reviewer(reviewer)
        .filter(dossier__call=call)
        .exclude(review__status=Review.Status.SUBMITTED)
        .select_related("dossier__consortium")
        .order_by("due_at")
    )
    if not pending:
        return 0
    context = {
        "call": call,
        "reviewer": reviewer,
        "pending": pending,
        "url": settings.SITE_URL + "/admin/reviews/assignment/",
    }
    send_mail(
        render_to_string("emails/reviewer_reminder_subject.txt", context).strip(),
        render_to_string("emails/reviewer_reminder_body.txt", context),
        None,
        [reviewer.email],
    )
    return 1
