"""Decisions, awards within the envelope, tranches, reports, publication and decision letters."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone

from applications.models import Call, Dossier
from applications.sections import format_euros
from applications.services import requested_amounts, requested_amounts_by_dossier, set_status
from jobs.services import enqueue

from .models import ActivityReport, Award, Decision, DecisionLetter, Tranche


class EnvelopeExceeded(ValidationError):
    pass


# --- Decisions and awards ---


def record_decision(
    dossier: Dossier,
    *,
    outcome: str,
    committee_date: dt.date,
    rationale: str = "",
    amounts: list[int] | None = None,
    by,
) -> Decision:
    """Record (or change) the committee's decision on a submitted dossier. A laureate gets an
    award (by default what it asked); any other outcome removes it. Refused once results are
    published. Applicants see nothing of it before publication."""
    dossier = Dossier.objects.select_related("call", "current_submission").get(pk=dossier.pk)
    if dossier.call.results_published_at:
        raise ValidationError("Les résultats de cet appel sont publiés : les décisions ne peuvent plus changer.")
    if dossier.current_submission_id is None or dossier.status not in (
        Dossier.Status.SUBMITTED,
        Dossier.Status.UNDER_REVIEW,
    ):
        raise ValidationError("Seul un dossier déposé peut recevoir une décision.")
    with transaction.atomic():
        decision, _ = Decision.objects.update_or_create(
            dossier=dossier,
            defaults={"outcome": outcome, "committee_date": committee_date, "rationale": rationale, "decided_by": by},
        )
        if outcome == Decision.Outcome.LAUREATE:
            set_award(decision, amounts=amounts if amounts is not None else requested_amounts(dossier), by=by)
        else:
            Award.objects.filter(decision=decision).delete()
    return decision


def set_award(decision: Decision, *, amounts: list[int], by) -> Award:
    """Set a laureate's amount per funding year.

    The call row is locked for the whole check-and-write, so two staff members saving at the
    same second are serialised and the second sees the first's award: the awards of a call
    never exceed its envelope (a database trigger checks it again for any other path).
    An award never exceeds what the dossier asked, year by year.
    """
    dossier = decision.dossier
    call = dossier.call
    if len(amounts) != call.funding_years or any(a < 0 for a in amounts):
        raise ValidationError(f"Indiquez {call.funding_years} montants positifs, un par année de financement.")
    asked = requested_amounts(dossier)
    for year, amount, limit in zip(call.funding_year_list, amounts, asked, strict=False):
        if amount > limit:
            raise ValidationError(
                f"{year} : la subvention ({format_euros(amount)}) dépasse le montant demandé ({format_euros(limit)})."
            )
    total = sum(amounts)
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        others = Award.objects.filter(call=call).exclude(decision=decision).aggregate(s=Sum("total"))["s"] or 0
        if others + total > call.envelope:
            raise EnvelopeExceeded(
                f"L'enveloppe de l'appel serait dépassée : {format_euros(others)} déjà attribués, "
                f"{format_euros(total)} demandés ici, pour une enveloppe de {format_euros(call.envelope)} "
                f"(reste {format_euros(call.envelope - others)})."
            )
        award = Award.objects.filter(decision=decision).first()
        if award and award.tranches.filter(status=Tranche.Status.PAID).exists() and award.amounts != amounts:
            raise ValidationError("Une tranche a déjà été payée : le montant de la subvention ne peut plus changer.")
        if award is None:
            award = Award(decision=decision, call=call)
        award.amounts = list(amounts)
        award.total = total
        award._history_user = by
        award.save()
        plan_tranches(award)
    return award


def plan_tranches(award: Award) -> None:
    """Default schedule: one tranche per funding year, the first payable at once, the others
    after approval of the previous year's report. Kept as it is once a tranche is paid."""
    if award.tranches.filter(status=Tranche.Status.PAID).exists():
        return
    award.tranches.all().delete()
    call = award.call
    Tranche.objects.bulk_create(
        [
            Tranche(
                award=award,
                position=index + 1,
                planned_date=dt.date(year, 3, 1),
                amount=amount,
                status=Tranche.Status.PAYABLE if index == 0 else Tranche.Status.PLANNED,
            )
            for index, (year, amount) in enumerate(zip(call.funding_year_list, award.amounts, strict=True))
            if amount > 0
        ]
    )


def set_tranches(award: Award, *, schedule: list[tuple[dt.date, int]], by) -> None:
    """Replace the payment schedule; its sum must equal the award. Paid tranches stay as they are."""
    total = sum(amount for _date, amount in schedule)
    if total != award.total:
        raise ValidationError(
            f"La somme des tranches ({format_euros(total)}) doit être égale à la "
            f"subvention ({format_euros(award.total)})."
        )
    with transaction.atomic():
        if award.tranches.filter(status=Tranche.Status.PAID).exists():
            raise ValidationError("Une tranche a déjà été payée : l'échéancier ne peut plus être remplacé.")
        award.tranches.all().delete()
        for position, (planned, amount) in enumerate(schedule, start=1):
            tranche = Tranche(award=award, position=position, planned_date=planned, amount=amount)
            tranche._history_user = by
            tranche.save()


def set_tranche_status(tranche: Tranche, to: str, *, by, paid_date: dt.date | None = None) -> None:
    if tranche.status == to:
        return
    if to not in Tranche.TRANSITIONS[tranche.status]:
        raise ValidationError(f"Passage impossible de « {tranche.get_status_display()} » à ce statut.")
    tranche.status = to
    tranche.paid_date = (paid_date or timezone.localdate()) if to == Tranche.Status.PAID else None
    tranche._history_user = by
    tranche.save(update_fields=["status", "paid_date"])


def approve_report(report: ActivityReport, *, by) -> None:
    """Approving year N's report makes tranche N+1 payable."""
    with transaction.atomic():
        if report.approved_at is None:
            report.approved_at = timezone.now()
            report.approved_by = by
            report._history_user = by
            report.save(update_fields=["approved_at", "approved_by"])
        following = report.award.tranches.filter(position=report.year_index + 1, status=Tranche.Status.PLANNED).first()
        if following:
            set_tranche_status(following, Tranche.Status.PAYABLE, by=by)


def record_selection(
    call: Call, *, selected_ids: list[int], committee_date: dt.date, rationale: str = "", by
) -> list[Decision]:
    """Record the committee's selection in one step: the selected dossiers become laureates
    (awarded what they asked), the other dossiers under review are not selected when an
    eliminatory threshold removed them and on the waiting list otherwise. All or nothing:
    refused (French message) when the selection would exceed the envelope, names a dossier that
    cannot receive a decision, or the results are already published."""
    from reviews.ranking import rank_call

    with transaction.atomic():
        # The call row is locked first, as set_award does: the check below and the awards
        # written after it see the same envelope and no concurrent award.
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.results_published_at:
            raise ValidationError("Les résultats de cet appel sont publiés : les décisions ne peuvent plus changer.")
        dossiers = {
            dossier.pk: dossier
            for dossier in Dossier.objects.filter(
                call=call,
                status__in=[Dossier.Status.SUBMITTED, Dossier.Status.UNDER_REVIEW],
                current_submission__isnull=False,
            )
        }
        selected = list(dict.fromkeys(selected_ids))
        unknown = [pk for pk in selected if pk not in dossiers]
        if unknown:
            raise ValidationError("La sélection contient un dossier qui ne peut pas recevoir de décision.")
        asked = requested_amounts_by_dossier(call)
        total = sum(sum(asked[pk]) for pk in selected)
        if total > call.envelope:
            raise EnvelopeExceeded(
                f"La sélection demande {format_euros(total)} pour une enveloppe de {format_euros(call.envelope)} : "
                "elle n'est pas enregistrée."
            )
        eliminated = {row.dossier_id for row in rank_call(call, with_dossiers=False).rows if row.eliminated_by}
        decisions = []
        # Other outcomes first: their awards are removed before the laureates' are checked.
        for pk, dossier in dossiers.items():
            if pk in selected:
                continue
            outcome = Decision.Outcome.NOT_SELECTED if pk in eliminated else Decision.Outcome.WAITING_LIST
            decisions.append(
                record_decision(dossier, outcome=outcome, committee_date=committee_date, rationale=rationale, by=by)
            )
        for pk in selected:
            decisions.append(
                record_decision(
                    dossiers[pk],
                    outcome=Decision.Outcome.LAUREATE,
                    committee_date=committee_date,
                    rationale=rationale,
                    by=by,
                )
            )
    return decisions


# --- Activity reports ---


def add_report(award: Award, *, year_index: int, uploaded_file, by) -> ActivityReport:
    """Store a laureate's yearly report, once results are published. The file is identified by its
    content (French refusal otherwise) and stored under a generated name; a year whose report is
    approved takes no more."""
    from applications.uploads import inspect_upload

    if not Call.objects.filter(pk=award.call_id, results_published_at__isnull=False).exists():
        raise ValidationError("Les rapports se déposent une fois les résultats publiés.")
    if not 1 <= year_index <= len(award.amounts):
        raise ValidationError("Cette année ne fait pas partie du programme financé.")
    info = inspect_upload(uploaded_file, max_bytes=settings.ATTACHMENT_MAX_BYTES)
    with transaction.atomic():
        if award.reports.filter(year_index=year_index, approved_at__isnull=False).exists():
            raise ValidationError("Le rapport de cette année est déjà approuvé.")
        report = ActivityReport(
            award=award,
            year_index=year_index,
            original_name=info.safe_name,
            sha256=info.sha256,
            uploaded_by=by,
        )
        report._history_user = by
        report.file.save(
            f"rapports/{award.call_id}/{award.pk}/{uuid.uuid4().hex}.{info.extension}", uploaded_file, save=False
        )
        report.save()
    return report


# --- Ledger ---


@dataclass(frozen=True)
class LedgerYear:
    year: int
    requested: int
    proposed: int
    awarded: int
    paid: int


@dataclass(frozen=True)
class Ledger:
    envelope: int
    years: list[LedgerYear]
    awarded_total: int
    laureates: int
    target: int

    @property
    def remaining(self) -> int:
        return self.envelope - self.awarded_total


def ledger(call: Call) -> Ledger:
    """Requested, proposed (laureates' requests), awarded, paid and remaining, per year."""
    n = call.funding_years
    requested, proposed, awarded, paid = [0] * n, [0] * n, [0] * n, [0] * n
    # Only the amounts asked are read, not each submission's frozen content.
    asked_by_dossier = requested_amounts_by_dossier(call)
    outcomes = (
        Dossier.objects.filter(call=call, current_submission__isnull=False)
        .exclude(status__in=[Dossier.Status.WITHDRAWN, Dossier.Status.EXPIRED])
        .values_list("pk", "decision__outcome")
    )
    laureates = 0
    for pk, outcome in outcomes:
        asked = asked_by_dossier[pk]
        for index in range(min(n, len(asked))):
            requested[index] += asked[index]
            if outcome == Decision.Outcome.LAUREATE:
                proposed[index] += asked[index]
    for award in Award.objects.filter(call=call):
        laureates += 1
        for index, amount in enumerate(award.amounts[:n]):
            awarded[index] += amount
    for position, amount in Tranche.objects.filter(award__call=call, status=Tranche.Status.PAID).values_list(
        "position", "amount"
    ):
        if 1 <= position <= n:
            paid[position - 1] += amount
    years = [
        LedgerYear(year, requested[i], proposed[i], awarded[i], paid[i])
        for i, year in enumerate(call.funding_year_list)
    ]
    return Ledger(
        envelope=call.envelope,
        years=years,
        awarded_total=sum(awarded),
        laureates=laureates,
        target=call.target_laureates,
    )


# --- Publication ---


APPEAL_NOTICE = (
    "Voies et délais de recours : la présente décision peut faire l'objet, dans un délai de deux mois à "
    "compter de sa notification, d'un recours gracieux auprès du ministre chargé de l'économie sociale et "
    "solidaire ou d'un recours contentieux devant le tribunal administratif compétent (articles R. 421-1 et "
    "suivants du code de justice administrative). Le tribunal administratif peut être saisi par l'application "
    "Télérecours citoyens accessible sur le site www.telerecours.fr."
)


def publish_results(call: Call, *, by) -> int:
    """Publish the call's results: dossiers take their final status, the public page and the
    open data show the laureates, and one decision letter per dossier waits in the outbox for
    staff to read, edit and release. Running it twice changes nothing more. Returns the number
    of letters created."""
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        decisions = list(
            Decision.objects.filter(dossier__call=call).select_related("dossier__consortium", "dossier__call")
        )
        if not decisions:
            raise ValidationError("Aucune décision n'est enregistrée pour cet appel.")
        if call.results_published_at is None:
            call.results_published_at = timezone.now()
            call._history_user = by
            call.save(update_fields=["results_published_at"])
        lettered = set(DecisionLetter.objects.filter(decision__in=decisions).values_list("decision_id", flat=True))
        created = 0
        for decision in decisions:
            dossier = decision.dossier
            if decision.outcome == Decision.Outcome.LAUREATE:
                _move(dossier, Dossier.Status.LAUREATE, by)
            elif decision.outcome == Decision.Outcome.NOT_SELECTED:
                _move(dossier, Dossier.Status.NOT_SELECTED, by)
            if decision.pk not in lettered:
                letter = draft_letter(decision)
                enqueue("awards.tasks.render_decision_letter_task", key=f"letter-pdf:{letter.pk}", letter_id=letter.pk)
                created += 1
    return created


def _move(dossier: Dossier, to: str, by) -> None:
    if dossier.status == Dossier.Status.SUBMITTED:
        set_status(dossier, Dossier.Status.UNDER_REVIEW, by=by)
    set_status(dossier, to, by=by, reason="Publication des résultats")


def letter_context(decision: Decision) -> dict:
    """What the decision letter's e-mail and PDF both show."""
    dossier = decision.dossier
    award = getattr(decision, "award", None)
    return {
        "decision": decision,
        "dossier": dossier,
        "call": dossier.call,
        "award": award,
        "amounts": list(zip(dossier.call.funding_year_list, award.amounts, strict=False)) if award else [],
        "appeal_notice": APPEAL_NOTICE,
    }


def draft_letter(decision: Decision) -> DecisionLetter:
    dossier = decision.dossier
    recipients = sorted(
        dossier.consortium.memberships.filter(user__is_active=True).values_list("user__email", flat=True)
    )
    context = {**letter_context(decision), "url": settings.SITE_URL + dossier.get_absolute_url()}
    return DecisionLetter.objects.create(
        decision=decision,
        recipients=recipients,
        subject=render_to_string("emails/decision_subject.txt", context).strip(),
        body=render_to_string("emails/decision_body.txt", context),
    )


def release_letters(letters, *, by) -> int:
    """Staff release the (possibly edited) letters: each is queued for sending, once."""
    count = 0
    for letter in letters:
        with transaction.atomic():
            letter = DecisionLetter.objects.select_for_update().get(pk=letter.pk)
            if letter.released_at is None:
                letter.released_at = timezone.now()
                letter.released_by = by
                letter._history_user = by
                letter.save(update_fields=["released_at", "released_by"])
            enqueue("awards.tasks.send_decision_letter_task", key=f"letter-send:{letter.pk}", letter_id=letter.pk)
            count += 1
    return count
