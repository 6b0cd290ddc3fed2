"""Writes on dossiers: every entry point (view, admin, task, command) calls these functions."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, prefetch_related_objects
from django.urls import reverse
from django.utils import formats, timezone

from jobs.services import enqueue_many

from . import clock
from .models import Call, Consortium, Dossier, DossierEvent, DossierSection, OrganisationKind, Sector, Submission
from .sections import (
    SECTION_FORMS,
    SECTIONS_BY_KEY,
    BudgetForm,
    DeclarationForm,
    SectionForm,
    SectionState,
    bind_sections,
    budget_summary,
    snapshot_sections,
    state_of,
    stored_data,
)


class DossierLocked(Exception):
    """The working copy cannot be changed now; the message says why, in French."""


def locked_reason(dossier: Dossier, *, at=None) -> str | None:
    """Why the team cannot edit the dossier's working copy at `at` (default: now), or None."""
    moment = at or clock.now()
    if dossier.status in (Dossier.Status.LAUREATE, Dossier.Status.NOT_SELECTED):
        return "Les résultats sont publiés : le dossier ne peut plus être modifié."
    if dossier.status == Dossier.Status.UNDER_REVIEW:
        return "Le dossier est en instruction : il ne peut plus être modifié."
    if dossier.status == Dossier.Status.EXPIRED:
        return "Le dossier n'a pas été déposé avant la date limite : il ne peut plus être modifié."
    if moment < dossier.call.opens_at:
        return "L'appel à projets n'est pas encore ouvert."
    if moment >= dossier.deadline:
        deadline = formats.date_format(timezone.localtime(dossier.deadline), "DATETIME_FORMAT")
        return f"La date limite de dépôt ({deadline}) est passée : le dossier ne peut plus être modifié."
    if dossier.status == Dossier.Status.WITHDRAWN:
        return "Le dossier a été retiré : reprenez-le pour le modifier."
    return None


def ensure_editable(dossier: Dossier, *, at=None) -> None:
    reason = locked_reason(dossier, at=at)
    if reason:
        raise DossierLocked(reason)


# --- Status ---


class IllegalTransition(Exception):
    pass


def set_status(
    dossier: Dossier,
    to: str,
    *,
    by,
    reason: str = "",
    kind: str = DossierEvent.Kind.STATUS,
    also_save: tuple[str, ...] = (),
) -> bool:
    """Move the dossier to status `to`: nothing on the same status, refusal for an illegal move,
    one event row per move. Returns whether the status changed. `also_save` names other fields
    changed by the caller, written in the same update (one row, one history entry)."""
    if dossier.status == to:
        return False
    if to not in Dossier.TRANSITIONS[dossier.status]:
        raise IllegalTransition(f"{dossier.status} → {to}")
    previous = dossier.status
    dossier.status = to
    dossier.save(update_fields=["status", "updated_at", *also_save])
    DossierEvent.objects.create(dossier=dossier, kind=kind, by=by, from_status=previous, to_status=to, reason=reason)
    return True


# --- Working copy ---


class StaleSection(Exception):
    """Someone saved the section since this editor loaded it."""

    def __init__(self, section: DossierSection):
        super().__init__("stale section")
        self.section = section


def start_dossier(consortium: Consortium, call: Call, *, by) -> Dossier:
    """The consortium's dossier for the call, created on first use while the call is open."""
    dossier = Dossier.objects.filter(consortium=consortium, call=call).first()
    if dossier is not None:
        return dossier
    moment = clock.now()
    if not call.is_open_at(moment):
        raise DossierLocked("L'appel à projets n'est pas ouvert : impossible de commencer un dossier.")
    try:
        with transaction.atomic():
            dossier = Dossier.objects.create(consortium=consortium, call=call)
            DossierEvent.objects.create(dossier=dossier, kind=DossierEvent.Kind.STATUS, by=by, to_status=dossier.status)
    except IntegrityError:  # a teammate created it at the same moment
        dossier = Dossier.objects.get(consortium=consortium, call=call)
    return dossier


def save_section(dossier: Dossier, key: str, data: dict, *, base_version: int, by) -> DossierSection:
    """Store what was typed in a section, complete or not.

    Refused with StaleSection when the section changed since the editor loaded version
    `base_version` (nothing is overwritten), and with DossierLocked when the working copy
    cannot be edited any more.
    """
    form_class = SECTIONS_BY_KEY[key]
    with transaction.atomic():
        locked = Dossier.objects.select_for_update(of=("self",)).select_related("call").get(pk=dossier.pk)
        ensure_editable(locked)
        section = DossierSection.objects.select_for_update().filter(dossier=locked, key=key).first()
        current_version = section.version if section else 0
        if current_version != base_version:
            raise StaleSection(section)
        if section is None:
            section = DossierSection(dossier=locked, key=key)
        section.data = stored_data(form_class, locked.call, data)
        section.version = current_version + 1
        section.updated_by = by
        section.updated_at = timezone.now()
        section.save()
    return section


def changed_fields(form_class: type[SectionForm], call: Call, mine: dict, theirs: dict) -> list[dict]:
    """Fields where the stored version differs from what this editor typed."""
    form = form_class(call=call)
    return [
        {"label": str(field.label), "theirs": theirs.get(name, ""), "mine": mine.get(name, "")}
        for name, field in form.fields.items()
        if str(theirs.get(name, "")).strip() != str(mine.get(name, "")).strip()
    ]


# --- Completeness ---


@dataclass(frozen=True)
class Missing:
    label: str
    url: str


def bound_sections(dossier: Dossier) -> dict[str, SectionForm]:
    """The dossier's section forms bound to what is stored (see `bind_sections`)."""
    return bind_sections(dossier.call, {section.key: section.data for section in dossier.sections.all()})


def section_states(dossier: Dossier, forms: dict[str, SectionForm] | None = None) -> list[SectionState]:
    forms = bound_sections(dossier) if forms is None else forms
    return [state_of(forms[form_class.key]) for form_class in SECTION_FORMS]


def missing_items(dossier: Dossier, forms: dict[str, SectionForm] | None = None) -> list[Missing]:
    """Everything that blocks submission, each with the page where it is fixed. `forms`: the
    sections' bound forms when the caller has them (`bound_sections`)."""
    from .attachments import missing_attachment_types, unusable_attachments
    from .consortia import composition_problems

    missing = [
        Missing(
            f"Rubrique « {state.title} » incomplète",
            reverse("applications:dossier-section", args=[dossier.pk, state.key]),
        )
        for state in section_states(dossier, forms)
        if not state.complete
    ]
    missing += [
        Missing(
            f"Pièce jointe manquante : {attachment_type.label}",
            reverse("applications:attachment-list", args=[dossier.pk]),
        )
        for attachment_type in missing_attachment_types(dossier)
    ]
    missing += [
        Missing(
            f"Pièce jointe en attente d'analyse antivirus : {attachment.original_name}",
            reverse("applications:attachment-list", args=[dossier.pk]),
        )
        for attachment in unusable_attachments(dossier)
    ]
    missing += [
        Missing(problem, reverse("applications:consortium-detail", args=[dossier.consortium_id]))
        for problem in composition_problems(dossier.consortium, dossier.call)
    ]
    return missing


# --- Submission ---


class SubmissionRefused(Exception):
    """The submission was refused; nothing changed. `reasons` are French sentences."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def canonical_json(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def build_snapshot(dossier: Dossier, forms: dict[str, SectionForm] | None = None) -> dict:
    """The dossier's content as it stands, in the frozen snapshot format (schema 1). `forms`: as
    for `missing_items`."""
    call, consortium = dossier.call, dossier.consortium
    sections = {section.key: section.data for section in dossier.sections.all()}
    forms = bind_sections(call, sections) if forms is None else forms
    organisations = list(consortium.organisations.all())
    memberships = list(consortium.memberships.select_related("user").order_by("user__email"))
    attachments = list(dossier.attachments.filter(removed_at__isnull=True).select_related("type"))
    kind_labels = dict(OrganisationKind.choices)
    declaration = sections.get(DeclarationForm.key, {})
    return {
        "schema": 1,
        "call": {
            "title": call.title,
            "slug": call.slug,
            "reference_prefix": call.reference_prefix,
            "closes_at": call.closes_at.isoformat(),
            "funding_years": call.funding_year_list,
        },
        "consortium": {
            "name": consortium.name,
            "communes": consortium.communes,
            "departement": consortium.departement,
            "region": consortium.region,
            "region_label": consortium.get_region_display(),
            "territory_priority": consortium.territory_priority,
            "territory_priority_label": consortium.get_territory_priority_display(),
            "maturity": consortium.maturity,
            "maturity_label": consortium.get_maturity_display(),
            "sectors": list(consortium.sectors),
            "sector_labels": [dict(Sector.choices).get(code, code) for code in consortium.sectors],
        },
        "organisations": [
            {
                "name": org.name,
                "siret": org.siret,
                "legal_form": org.legal_form,
                "kind": org.kind,
                "kind_label": kind_labels.get(org.kind, org.kind),
                "address": org.address,
                "postcode": org.postcode,
                "commune": org.commune,
                "email_domain": org.email_domain,
                "is_lead": org.is_lead,
            }
            for org in organisations
        ],
        "team": [
            {
                "email": membership.user.email,
                "name": membership.user.get_full_name(),
                "role": membership.role,
                "role_label": membership.get_role_display(),
            }
            for membership in memberships
        ],
        "sections": snapshot_sections(forms),
        "budget": budget_summary(sections.get(BudgetForm.key, {}), call.funding_year_list),
        "attachments": [
            {
                "type_code": attachment.type.code if attachment.type else "",
                "type_label": attachment.type.label if attachment.type else "Autre pièce",
                "name": attachment.original_name,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
                "uuid": str(attachment.uuid),
            }
            for attachment in attachments
        ],
        "sworn_statement": {
            "accepted": declaration.get("accepted") in ("on", "true", "True", "1"),
            "by": declaration.get("signatory_name", ""),
            "role": declaration.get("signatory_role", ""),
        },
    }


def submit_dossier(dossier: Dossier, *, by) -> Submission:
    """Freeze, number and hash the dossier; it becomes the version that counts.

    The deadline is checked here, inside the transaction, on the database's clock, after the
    dossier row is locked: two concurrent submissions are serialised and the second finds
    nothing new to submit. The call row is locked only to take the next gapless number.
    After commit, the PDF and the receipt e-mails are queued; the receipt itself (number,
    time, hash) exists as soon as this returns.
    """
    with transaction.atomic():
        # Not joined with current_submission: a submission waiting for this lock would see the
        # joined row of its snapshot (none yet), not the one the first submission just created.
        dossier = (
            Dossier.objects.select_for_update(of=("self",)).select_related("call", "consortium").get(pk=dossier.pk)
        )
        moment = clock.now()
        if moment >= dossier.deadline:
            deadline = formats.date_format(timezone.localtime(dossier.deadline), "DATETIME_FORMAT")
            raise SubmissionRefused(
                [f"La date limite de dépôt ({deadline}) est passée : le dossier n'a pas été déposé."]
            )
        reason = locked_reason(dossier, at=moment)
        if reason and dossier.status != Dossier.Status.WITHDRAWN:
            raise SubmissionRefused([reason])
        # Read once for both the completeness check and the snapshot.
        prefetch_related_objects([dossier], "sections", "consortium__organisations")
        forms = bound_sections(dossier)
        missing = missing_items(dossier, forms)
        if missing:
            raise SubmissionRefused([item.label for item in missing])
        content = build_snapshot(dossier, forms)
        digest = content_hash(content)
        previous = dossier.current_submission
        if previous is not None and previous.content_sha256 == digest and dossier.status == Dossier.Status.SUBMITTED:
            raise SubmissionRefused(["Ce dossier est déjà déposé et n'a pas été modifié depuis."])
        if dossier.number is None:
            dossier.number = next_dossier_number(dossier.call_id)
            dossier.reference = f"{dossier.call.reference_prefix}-{dossier.number:04d}"
        version = (previous.version if previous else 0) + 1
        submission = Submission.objects.create(
            dossier=dossier,
            version=version,
            reference=dossier.reference if version == 1 else f"{dossier.reference}-V{version}",
            submitted_at=moment,
            submitted_by=by,
            content=content,
            content_sha256=digest,
        )
        dossier.current_submission = submission
        numbered = ("number", "reference", "current_submission")
        if not set_status(
            dossier, Dossier.Status.SUBMITTED, by=by, kind=DossierEvent.Kind.SUBMISSION, also_save=numbered
        ):
            dossier.save(update_fields=[*numbered, "updated_at"])
            DossierEvent.objects.create(
                dossier=dossier,
                kind=DossierEvent.Kind.SUBMISSION,
                by=by,
                from_status=dossier.status,
                to_status=dossier.status,
                data={"reference": submission.reference},
            )
        enqueue_many(
            [
                (
                    "applications.tasks.render_submission_pdf_task",
                    f"pdf:{submission.pk}",
                    {"submission_id": submission.pk},
                ),
                (
                    "applications.tasks.send_submission_receipts_task",
                    f"receipts:{submission.pk}",
                    {"submission_id": submission.pk},
                ),
            ]
        )
    return submission


def next_dossier_number(call_id: int) -> int:
    """The call's next gapless dossier number, in one statement: the update locks the call row
    until the caller's transaction ends, so concurrent submissions get consecutive numbers. The
    counter is bookkeeping, not a change of the call: no history row (the number is recorded in
    the dossier's own history)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE applications_call SET last_dossier_number = last_dossier_number + 1 WHERE id = %s "
            "RETURNING last_dossier_number",
            [call_id],
        )
        return cursor.fetchone()[0]


def has_unsubmitted_changes(dossier: Dossier) -> bool:
    if dossier.current_submission is None:
        return False
    since = dossier.current_submission.submitted_at
    # The dossier's few sections, from the prefetch when the caller has one (the overview does).
    return any(section.updated_at > since for section in dossier.sections.all()) or (
        dossier.attachments.filter(Q(uploaded_at__gt=since) | Q(removed_at__gt=since)).exists()
    )


def withdraw_dossier(dossier: Dossier, *, reason: str, by) -> None:
    """The team withdraws its dossier; reversible until the deadline."""
    if not reason.strip():
        raise DossierLocked("Indiquez le motif du retrait.")
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update(of=("self",)).select_related("call").get(pk=dossier.pk)
        if clock.now() >= dossier.deadline:
            raise DossierLocked("La date limite est passée : le dossier ne peut plus être retiré.")
        if dossier.status not in (Dossier.Status.DRAFT, Dossier.Status.SUBMITTED):
            raise DossierLocked("Ce dossier ne peut pas être retiré dans son état actuel.")
        dossier.withdrawn_reason = reason.strip()
        dossier.save(update_fields=["withdrawn_reason", "updated_at"])
        set_status(dossier, Dossier.Status.WITHDRAWN, by=by, reason=reason.strip())


def reinstate_dossier(dossier: Dossier, *, by) -> None:
    """Undo a withdrawal before the deadline: back to the last submitted version, or to draft."""
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update(of=("self",)).select_related("call").get(pk=dossier.pk)
        if clock.now() >= dossier.deadline:
            raise DossierLocked("La date limite est passée : le retrait ne peut plus être annulé.")
        if dossier.status != Dossier.Status.WITHDRAWN:
            raise DossierLocked("Ce dossier n'est pas retiré.")
        target = Dossier.Status.SUBMITTED if dossier.current_submission_id else Dossier.Status.DRAFT
        set_status(dossier, target, by=by, reason="Retrait annulé")


def grant_deadline(dossier: Dossier, *, until, reason: str, by) -> None:
    """Staff give one dossier its own deadline: an extension for a draft (e.g. after an outage)
    or a reopening for corrections of a submitted one. Traced with its reason."""
    if not reason.strip():
        raise DossierLocked("Indiquez le motif.")
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update(of=("self",)).select_related("call").get(pk=dossier.pk)
        if until <= clock.now():
            raise DossierLocked("Le nouveau délai doit être dans le futur.")
        reopening = dossier.current_submission_id is not None
        previous = dossier.deadline_override
        dossier.deadline_override = until
        dossier.save(update_fields=["deadline_override", "updated_at"])
        kind = DossierEvent.Kind.REOPENING if reopening else DossierEvent.Kind.EXTENSION
        data = {"until": until.isoformat(), "previous": previous.isoformat() if previous else None}
        if dossier.status in (Dossier.Status.UNDER_REVIEW, Dossier.Status.WITHDRAWN) and reopening:
            set_status(dossier, Dossier.Status.SUBMITTED, by=by, reason=reason, kind=kind)
        elif dossier.status == Dossier.Status.EXPIRED:
            set_status(dossier, Dossier.Status.DRAFT, by=by, reason=reason, kind=kind)
        DossierEvent.objects.create(
            dossier=dossier,
            kind=kind,
            by=by,
            from_status=dossier.status,
            to_status=dossier.status,
            reason=reason.strip(),
            data=data,
        )


def snapshot_diff(old: dict, new: dict) -> list[dict]:
    """What changed between two submitted versions, field by field, for staff."""
    changes = []

    def flatten(content: dict) -> dict[str, tuple[str, str]]:
        flat = {}
        for section in content.get("sections", []):
            for field in section["fields"]:
                flat[f"{section['key']}.{field['name']}"] = (f"{section['title']} — {field['label']}", field["value"])
        budget = content.get("budget", {})
        for group in ("expenses", "cofunding"):
            for line in budget.get(group, []):
                flat[f"budget.{group}.{line['code']}"] = (
                    f"Budget — {line['label']}",
                    " / ".join(map(str, line["amounts"])),
                )
        if budget:
            flat["budget.requested"] = (
                "Budget — subvention demandée",
                " / ".join(map(str, budget["requested"]["amounts"])),
            )
        for org in content.get("organisations", []):
            flat[f"org.{org['siret']}"] = (f"Organisation {org['siret']}", f"{org['name']} ({org['kind_label']})")
        for attachment in content.get("attachments", []):
            flat[f"att.{attachment['sha256']}"] = (f"Pièce « {attachment['type_label']} »", attachment["name"])
        return flat

    before, after = flatten(old), flatten(new)
    for key in sorted(set(before) | set(after)):
        label = (after.get(key) or before.get(key))[0]
        old_value = before.get(key, (label, ""))[1]
        new_value = after.get(key, (label, ""))[1]
        if old_value != new_value:
            changes.append({"label": label, "old": old_value, "new": new_value})
    return changes


# --- Amounts asked ---


def requested_amounts(dossier: Dossier) -> list[int]:
    """What the dossier asked, per funding year, as submitted (the version that counts)."""
    submission = dossier.current_submission
    if submission is None:
        return [0] * dossier.call.funding_years
    return (
        list(submission.content.get("budget", {}).get("requested", {}).get("amounts", []))
        or [0] * dossier.call.funding_years
    )


def requested_amounts_by_dossier(call: Call) -> dict[int, list[int]]:
    """requested_amounts() of every submitted dossier of the call, in one query that reads only
    that part of each submission's frozen content (tens of kB a dossier otherwise)."""
    asked = (
        Dossier.objects.filter(call=call, current_submission__isnull=False)
        .annotate(asked=F("current_submission__content__budget__requested__amounts"))
        .values_list("pk", "asked")
    )
    return {pk: list(amounts or []) or [0] * call.funding_years for pk, amounts in asked}
