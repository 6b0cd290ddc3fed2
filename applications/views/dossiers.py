"""Applicant pages of a dossier: calls, dashboard, overview, sections, submission, receipts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import prefetch_related_objects
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .. import services
from ..access import consortium_for, dossier_for
from ..downloads import private_download
from ..models import Call, Consortium, Dossier, DossierSection, Membership, Submission
from ..sections import SECTION_FORMS, SECTIONS_BY_KEY, BudgetForm


def home(request):
    now = timezone.now()
    calls = Call.objects.published().open_at(now).order_by("closes_at")
    return render(request, "applications/home.html", {"calls": calls, "now": now})


def call_detail(request, slug):
    call = get_object_or_404(Call.objects.published().prefetch_related("attachment_types"), slug=slug)
    consortia = (
        Consortium.objects.editable_by(request.user).prefetch_related("dossiers")
        if request.user.is_authenticated
        else Consortium.objects.none()
    )
    return render(
        request,
        "applications/call_detail.html",
        {"call": call, "is_open": call.is_open_at(timezone.now()), "consortia": consortia},
    )


@login_required
def dashboard(request):
    consortia = Consortium.objects.visible_to(request.user).prefetch_related("memberships").order_by("name")
    dossiers = (
        Dossier.objects.visible_to(request.user)
        .select_related("current_submission")
        .order_by("-call__closes_at", "consortium__name")
    )
    return render(
        request,
        "applications/dashboard.html",
        {"consortia": consortia, "dossiers": dossiers, "now": timezone.now()},
    )


@login_required
@require_POST
def dossier_start(request, pk, call_slug):
    consortium, _membership = consortium_for(request.user, pk, edit=True)
    call = get_object_or_404(Call.objects.published(), slug=call_slug)
    try:
        dossier = services.start_dossier(consortium, call, by=request.user)
    except services.DossierLocked as refusal:
        messages.error(request, str(refusal))
        return redirect(consortium.get_absolute_url())
    return redirect(dossier.get_absolute_url())


def _dossier_context(dossier, membership, **extra):
    return {
        "dossier": dossier,
        "membership": membership,
        "can_edit": membership.can_edit,
        "locked_reason": services.locked_reason(dossier),
        "now": timezone.now(),
        **extra,
    }


@login_required
def dossier_overview(request, pk):
    dossier, membership = dossier_for(request.user, pk)
    prefetch_related_objects([dossier], "sections")  # read once, here and by has_unsubmitted_changes()
    forms = services.bound_sections(dossier)  # validated once, for the states and for missing_items()
    missing = services.missing_items(dossier, forms)
    return render(
        request,
        "applications/dossier_overview.html",
        _dossier_context(
            dossier,
            membership,
            states=services.section_states(dossier, forms),
            missing=missing,
            submissions=dossier.submissions.select_related("submitted_by"),
            unsubmitted_changes=services.has_unsubmitted_changes(dossier),
        ),
    )


@login_required
def dossier_section(request, pk, key):
    form_class = SECTIONS_BY_KEY.get(key)
    if form_class is None:
        raise Http404("Rubrique inconnue.")
    dossier, membership = dossier_for(request.user, pk, edit=request.method == "POST")
    section = None
    autosave = request.headers.get("X-Autosave") == "1"
    conflict = None
    if request.method == "POST":
        try:
            base_version = int(request.POST.get("_version", "0"))
        except ValueError:
            base_version = -1
        try:
            section = services.save_section(dossier, key, request.POST, base_version=base_version, by=request.user)
        except services.StaleSection as stale:
            conflict = stale.section
        except services.DossierLocked as refusal:
            if autosave:
                return JsonResponse({"status": "locked", "message": str(refusal)}, status=423)
            messages.error(request, str(refusal))
            return redirect(dossier.get_absolute_url())
        if autosave:
            if conflict is not None:
                return JsonResponse(
                    {
                        "status": "conflict",
                        "message": _conflict_message(conflict),
                    },
                    status=409,
                )
            return JsonResponse(
                {
                    "status": "saved",
                    "version": section.version,
                    "saved_at": timezone.localtime(section.updated_at).strftime("%H:%M:%S"),
                }
            )
        form = form_class(data=request.POST, call=dossier.call)
        if conflict is not None:
            messages.error(request, _conflict_message(conflict))
            changes = services.changed_fields(form_class, dossier.call, request.POST, conflict.data)
            version = conflict.version
        else:
            changes = []
            version = section.version
            if form.is_valid():
                messages.success(request, "Rubrique enregistrée. Elle est complète.")
                if request.POST.get("next") == "overview":
                    return redirect(dossier.get_absolute_url())
            else:
                messages.warning(
                    request,
                    "Brouillon enregistré. La rubrique reste à compléter : les points à revoir sont signalés ci-dessous.",
                )
    else:
        section = DossierSection.objects.filter(dossier=dossier, key=key).select_related("updated_by").first()
        data = section.data if section else {}
        form = form_class(initial=data, call=dossier.call)
        changes = []
        version = section.version if section else 0
    index = [form.key for form in SECTION_FORMS].index(key)
    return render(
        request,
        "applications/dossier_section.html",
        _dossier_context(
            dossier,
            membership,
            form=form,
            section=section if conflict is None else conflict,
            version=version,
            conflict=conflict,
            changes=changes,
            is_budget=form_class is BudgetForm,
            previous_key=SECTION_FORMS[index - 1].key if index > 0 else None,
            next_key=SECTION_FORMS[index + 1].key if index + 1 < len(SECTION_FORMS) else None,
            sections=SECTION_FORMS,
        ),
        status=409 if conflict is not None else 200,
    )


def _conflict_message(section: DossierSection) -> str:
    who = section.updated_by.email if section.updated_by else "un autre membre de l'équipe"
    when = timezone.localtime(section.updated_at).strftime("%d/%m/%Y à %H:%M:%S")
    return (
        f"Cette rubrique a été modifiée par {who} le {when} pendant que vous la modifiiez. "
        "Votre texte n'a pas été enregistré : il est conservé ci-dessous. Comparez avec la version enregistrée, "
        "puis enregistrez à nouveau pour la remplacer."
    )


@login_required
@require_POST
def dossier_submit(request, pk):
    dossier, _membership = dossier_for(request.user, pk, edit=True)
    try:
        submission = services.submit_dossier(dossier, by=request.user)
    except services.SubmissionRefused as refusal:
        for reason in refusal.reasons:
            messages.error(request, reason)
        return redirect(dossier.get_absolute_url())
    messages.success(
        request,
        f"Votre dossier est déposé sous le numéro {submission.reference}. Conservez l'accusé de réception.",
    )
    return redirect("applications:submission-detail", pk=dossier.pk, version=submission.version)


@login_required
@require_POST
def dossier_withdraw(request, pk):
    dossier, _membership = dossier_for(request.user, pk, edit=True)
    try:
        services.withdraw_dossier(dossier, reason=request.POST.get("reason", ""), by=request.user)
    except services.DossierLocked as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, "Le dossier est retiré. Vous pouvez annuler ce retrait jusqu'à la date limite.")
    return redirect(dossier.get_absolute_url())


@login_required
@require_POST
def dossier_reinstate(request, pk):
    dossier, _membership = dossier_for(request.user, pk, edit=True)
    try:
        services.reinstate_dossier(dossier, by=request.user)
    except services.DossierLocked as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, "Le retrait est annulé.")
    return redirect(dossier.get_absolute_url())


def _submission_for(request, pk, version) -> tuple[Dossier, Membership, Submission]:
    dossier, membership = dossier_for(request.user, pk)
    submission = Submission.objects.filter(dossier=dossier, version=version).select_related("submitted_by").first()
    if submission is None:
        raise Http404("Aucune version déposée ne correspond.")
    return dossier, membership, submission


@login_required
def submission_detail(request, pk, version):
    dossier, membership, submission = _submission_for(request, pk, version)
    return render(
        request,
        "applications/submission_detail.html",
        _dossier_context(dossier, membership, submission=submission, content=submission.content),
    )


@login_required
def submission_pdf(request, pk, version):
    _dossier, _membership, submission = _submission_for(request, pk, version)
    if not submission.pdf_rendered_at:
        raise Http404("Le PDF est en cours de production.")
    return private_download(submission.pdf, f"{submission.reference}.pdf", "application/pdf")
