"""Program staff pages for reviewing: automatic assignment, ranking, reviewer progress."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.decorators import program_staff_required
from applications.models import Call, Dossier, Maturity, Region, Sector, TerritoryPriority

from . import services
from .ranking import rank_call, reviewer_progress


@program_staff_required
def call_list(request):
    return render(request, "reviews/call_list.html", {"calls": Call.objects.order_by("-closes_at")})


@program_staff_required
def assignment_page(request, slug):
    call = get_object_or_404(Call, slug=slug)
    report = None
    if request.method == "POST":
        report = services.auto_assign(call, by=request.user)
        messages.success(request, f"{len(report.new_pairs)} attribution(s) créée(s).")
    return render(
        request,
        "reviews/assignment_page.html",
        {
            "call": call,
            "report": report,
            "progress": reviewer_progress(call),
            "dossier_count": Dossier.objects.filter(call=call, status__in=services.REVIEWABLE_STATUSES).count(),
        },
    )


@program_staff_required
def ranking_page(request, slug):
    call = get_object_or_404(Call, slug=slug)
    filters = {
        name: request.GET.get(name, "") for name in ("region", "territory_priority", "maturity", "sector", "status")
    }
    ranking = rank_call(call, order=request.GET.get("ordre", "calibrated"), filters=filters)
    return render(
        request,
        "reviews/ranking.html",
        {
            "call": call,
            "ranking": ranking,
            "filter_fields": [
                (name, label, options, filters[name])
                for name, label, options in [
                    ("region", "Région", Region.choices),
                    ("territory_priority", "Priorité territoriale", TerritoryPriority.choices),
                    ("maturity", "Maturité", Maturity.choices),
                    ("sector", "Secteur", Sector.choices),
                    ("status", "Statut", Dossier.Status.choices),
                ]
            ],
        },
    )


@program_staff_required
def progress_page(request, slug):
    call = get_object_or_404(Call, slug=slug)
    return render(request, "reviews/progress.html", {"call": call, "progress": reviewer_progress(call)})


@program_staff_required
@require_POST
def remind_reviewers(request, slug):
    call = get_object_or_404(Call, slug=slug)
    count = services.remind_reviewers(call, by=request.user)
    messages.success(request, f"Relance envoyée à {count} évaluateur(s) ayant des évaluations en attente.")
    return redirect("reviews:progress", slug=call.slug)
