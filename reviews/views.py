"""Program staff pages for reviewing: automatic assignment, ranking, reviewer progress."""

from html import escape

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.decorators import program_staff_required
from applications.access import dossier_for
from applications.downloads import private_download
from applications.models import Call, Dossier, Maturity, Region, Sector, TerritoryPriority

from . import ranking_store, services
from .forms import MessageForm
from .messages import mark_thread_read, post_message
from .models import Message
from .ranking import EXPLANATION, reviewer_progress
from .templatetags.scores import score

RANKING_PAGE_SIZE = 50
RANKING_ROW = (
    '<tr><td>{rank}</td><td><a href="{thread}" title="Questions au pôle">{reference}</a></td><td>{pole}</td>'
    '<td>{region}</td><td class="text-end">{done} / {assigned}</td><td class="text-end">{totals}</td>'
    '<td class="text-end">{raw_mean}</td><td class="text-end">{median}</td><td class="text-end">{spread}</td>'
    '<td class="text-end"><strong>{calibrated}</strong></td><td>{flags}</td></tr>'
)
DISAGREEMENT_BADGE = '<span class="badge text-bg-warning">Désaccord entre évaluateurs</span>'
ELIMINATED_BADGE = '<span class="badge text-bg-danger">Éliminé : {}</span>'


def _ranking_row(line: ranking_store.StoredLine) -> str:
    """One line of the ranking table, written as awards.console writes the console's rows (the
    template engine spent most of the page's time on its 50 rows). Texts are escaped here."""
    flags = [DISAGREEMENT_BADGE] if line.disagreement else []
    flags += [ELIMINATED_BADGE.format(escape(name)) for name in line.eliminated_by]
    return mark_safe(
        RANKING_ROW.format(
            rank="—" if line.rank is None else line.rank,
            thread=escape(reverse("reviews:staff-thread", args=[line.dossier.pk])),
            reference=escape(line.dossier.reference),
            pole=escape(line.dossier.consortium.name),
            region=escape(line.dossier.consortium.region_label),
            done=line.done,
            assigned=line.assigned,
            totals=" · ".join(score(total) for total in line.totals),
            raw_mean=score(line.raw_mean),
            median=score(line.median),
            spread=score(line.spread),
            calibrated=score(line.calibrated),
            flags="".join(flags),
        )
    )


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
    order = "raw" if request.GET.get("ordre") == "raw" else "calibrated"
    # The ranking over every dossier is kept in the database and computed again only when a
    # review, an assignment, a status... changed (reviews.ranking_store); one page is rendered.
    ranking_store.fresh_ranking(call)
    page = Paginator(ranking_store.ranked_dossiers(call, order=order, filters=filters), RANKING_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = ranking_store.with_ranks(page.object_list, start=page.start_index(), order=order)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reviews/ranking.html",
        {
            "call": call,
            "order": order,
            "explanation": EXPLANATION,
            "page": page,
            "rows": [_ranking_row(line) for line in page.object_list],
            "page_numbers": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            "page_query": query.urlencode(),
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


def _thread(request, dossier, *, from_staff: bool, template: str, can_post: bool):
    form = MessageForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_post:
            raise PermissionDenied("Votre rôle ne permet pas d'écrire dans ce fil.")
        if form.is_valid():
            try:
                post_message(
                    dossier,
                    author=request.user,
                    body=form.cleaned_data["body"],
                    from_staff=from_staff,
                    upload=form.cleaned_data.get("attachment"),
                )
            except ValidationError as refusal:
                if hasattr(refusal, "error_dict"):
                    for field, errors in refusal.message_dict.items():
                        for error in errors:
                            form.add_error(field if field in form.fields else None, error)
                else:
                    form.add_error("attachment", refusal.messages[0])
            else:
                mark_thread_read(dossier, request.user)
                messages.success(request, "Message envoyé.")
                return redirect(request.path)
    thread = list(dossier.messages.select_related("author"))
    mark_thread_read(dossier, request.user)
    return render(request, template, {"dossier": dossier, "thread": thread, "form": form, "can_post": can_post})


@login_required
def team_thread(request, pk):
    dossier, membership = dossier_for(request.user, pk, edit=request.method == "POST")
    if dossier.current_submission_id is None:
        raise Http404("Aucune question sur un dossier non déposé.")
    return _thread(
        request, dossier, from_staff=False, template="reviews/thread_team.html", can_post=membership.can_edit
    )


@program_staff_required
def staff_thread(request, pk):
    dossier = get_object_or_404(
        Dossier.objects.select_related("consortium", "call"), pk=pk, current_submission__isnull=False
    )
    return _thread(request, dossier, from_staff=True, template="reviews/thread_staff.html", can_post=True)


@login_required
def message_attachment(request, pk, message_pk):
    """The file of a thread message: for the dossier's team and program staff only."""
    if request.user.is_program_staff:
        dossier = get_object_or_404(Dossier, pk=pk)
    else:
        dossier, _membership = dossier_for(request.user, pk)
    message = get_object_or_404(Message, pk=message_pk, dossier=dossier)
    if not message.attachment:
        raise Http404
    return private_download(message.attachment, message.attachment_name)
