"""Awards pages: the selection console and the decisions (staff), exports, the public results
with their open data, and the laureates' side (decision letter, yearly reports)."""

from __future__ import annotations

import csv
import io
import secrets
import tempfile
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from accounts.decorators import program_staff_required
from applications.access import dossier_for
from applications.downloads import private_download
from applications.models import Call, Dossier, Membership, Organisation, TerritoryPriority
from applications.sections import format_euros
from applications.services import requested_amounts
from applications.uploads import SizeLimitUploadHandler
from reviews.ranking import EXPLANATION, Ranking, rank_call

from . import exports, services
from .console import Analysis, Console, TieGroup, amounts_for_years, sort_key
from .forms import AcceptSelectionForm, ReportUploadForm, SelectionForm, parse_ids
from .models import ActivityReport, Award, Decision, DecisionLetter
from .proposals import Outcome
from .selection import (
    Proposal,
    verifiable_draw,
    verify_draw,
)

FORMATS = ("csv", "xlsx", "pdf")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LISTS = {
    "laureats": ("Lauréats — montants attribués", "Lauréats"),
    "dossiers": ("Dossiers classés — montants demandés", "Dossiers"),
}
TIE_BREAK = (
    "À note égale, le classement publié départage dans cet ordre : la note retenue pour le classement, puis la "
    "note brute moyenne, puis le dépôt le plus ancien, puis le numéro de dossier ; parmi les sélections qui "
    "obtiennent le même total de points, la proposition retient celle que ce classement préfère."
)
# One MILP re-solve per dossier: about 2 s for 200 dossiers, minutes for 1,000 (measured), so
# larger calls ask for them explicitly.
COSTS_BY_DEFAULT_UP_TO = 250


# --- Shared reads ---


def _ranking(call: Call, order: str) -> Ranking:
    ranking = rank_call(call, order=order)
    for row in ranking.rows:
        row.dossier.call = call  # requested_amounts() reads the call: no query per dossier
    return ranking


def _requested(dossier: Dossier, years: int) -> list[int]:
    return amounts_for_years(requested_amounts(dossier), years)


def _facts(dossier: Dossier, leads: dict[int, Organisation]) -> dict:
    """What describes the pole, as submitted (the version that counts), else as it is now."""
    content = dossier.current_submission.content if dossier.current_submission else {}
    frozen = content.get("consortium") or {}
    consortium = dossier.consortium
    lead = next((org for org in content.get("organisations", []) if org.get("is_lead")), None)
    if lead is None and consortium.pk in leads:
        lead = {"name": leads[consortium.pk].name, "siret": leads[consortium.pk].siret}
    return {
        "reference": dossier.reference,
        "pole": frozen.get("name", consortium.name),
        "lead_structure": (lead or {}).get("name", ""),
        "siret": (lead or {}).get("siret", ""),
        "commune": frozen.get("communes", consortium.communes),
        "departement": frozen.get("departement", consortium.departement),
        "region": frozen.get("region_label", consortium.get_region_display()),
        "territory_priority": frozen.get("territory_priority_label", consortium.get_territory_priority_display()),
        "maturity": frozen.get("maturity_label", consortium.get_maturity_display()),
        "sectors": tuple(frozen["sector_labels"]) if "sector_labels" in frozen else consortium.get_sectors_display(),
    }


def _leads(dossiers: list[Dossier]) -> dict[int, Organisation]:
    """Lead structures of the poles whose submission does not record them: one query at most."""
    missing = [
        dossier.consortium_id
        for dossier in dossiers
        if not any(
            org.get("is_lead")
            for org in (dossier.current_submission.content if dossier.current_submission else {}).get(
                "organisations", []
            )
        )
    ]
    if not missing:
        return {}
    return {org.consortium_id: org for org in Organisation.objects.filter(consortium_id__in=missing, is_lead=True)}


# --- Selection console ---


@program_staff_required
@require_http_methods(["GET", "POST"])
def selection_page(request, slug):
    call = get_object_or_404(Call, slug=slug)
    accept_form = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("prepare-draw", "draw"):
            _draw(request, call, action)
            return redirect(_selection_url(call, request))
        if action != "accept":
            return HttpResponseBadRequest("Action inconnue.")
        accept_form = AcceptSelectionForm(request.POST)
        if accept_form.is_valid():
            try:
                decisions = services.record_selection(
                    call,
                    selected_ids=accept_form.cleaned_data["selected"],
                    committee_date=accept_form.cleaned_data["committee_date"],
                    rationale=accept_form.cleaned_data["rationale"],
                    by=request.user,
                )
            except ValidationError as refusal:
                accept_form.add_error(None, refusal)
            else:
                counts = dict.fromkeys(Decision.Outcome.values, 0)
                for decision in decisions:
                    counts[decision.outcome] += 1
                messages.success(
                    request,
                    f"{len(decisions)} décision(s) enregistrée(s) : {counts[Decision.Outcome.LAUREATE]} lauréat(s), "
                    f"{counts[Decision.Outcome.WAITING_LIST]} en liste d'attente, "
                    f"{counts[Decision.Outcome.NOT_SELECTED]} non retenu(s). Rien n'est visible des porteurs "
                    "avant la publication des résultats.",
                )
                return redirect("awards:decisions", slug=call.slug)
    return render(request, "awards/selection.html", _selection_context(request, call, accept_form))


def _selection_url(call: Call, request) -> str:
    url = reverse("awards:selection", args=[call.slug])
    return f"{url}?{request.GET.urlencode()}" if request.GET else url


def _selection_context(request, call: Call, accept_form: AcceptSelectionForm | None) -> dict:
    order = request.GET.get("ordre") if request.GET.get("ordre") in ("raw", "calibrated") else "calibrated"
    # What the console computes over the whole call is cached per ranking stamp (awards.console):
    # a request reads the stamp, the cache and one page of stored lines.
    console = Console(call, order)
    # The page number alone leaves the parameters at their defaults.
    query = request.GET.copy()
    query.pop("page", None)
    page_query = query.urlencode()
    form = SelectionForm(
        query or None,
        call=call,
        regions=console.layout.regions,
        costs_by_default=console.layout.count <= COSTS_BY_DEFAULT_UP_TO,
    )
    score = "raw_mean" if form.score == "raw" else "calibrated"
    wanted_in, wanted_out = (
        set(parse_ids(request.GET.getlist("imposer"))),
        set(parse_ids(request.GET.getlist("exclure"))),
    )
    known = console.known(wanted_in | wanted_out)
    locked_in, locked_out = wanted_in & known, wanted_out & known

    outcome = Outcome()
    analysis = Analysis(costs={}, ties=[])
    if not form.is_bound or form.is_valid():
        constraints = form.constraints(locked_in=locked_in, locked_out=locked_out)
        outcome = console.outcome(score, constraints)
        if outcome.proposal is not None and outcome.proposal.is_optimal:
            analysis = console.analysis(score, constraints, outcome.proposal, costs=form.with_costs, near=form.near)
    proposal = outcome.proposal

    page, lines = console.page(
        request.GET.get("page"),
        score=score,
        proposal=proposal,
        costs=analysis.costs,
        locked_in=locked_in,
        locked_out=locked_out,
    )
    shown = {line.candidate.id for line in lines if line.candidate}
    if accept_form is None and proposal is not None and proposal.is_optimal and proposal.selected:
        accept_form = AcceptSelectionForm(initial={"selected": ",".join(str(pk) for pk in proposal.selected)})
    return {
        "call": call,
        "order": console.order,
        "explanation": EXPLANATION,
        "dossier_count": console.layout.count,
        "form": form,
        "page": page,
        "lines": lines,
        "page_numbers": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "page_query": page_query,
        # The parameters form is rendered from the query and the call only: its HTML is cached.
        "form_key": f"{console.key}:{page_query}",
        "marker_pages": console.marker_pages(page.paginator),
        # The "Imposer" and "Exclure" boxes of the other pages' lines go with the form, hidden.
        "locked_elsewhere": [("imposer", pk) for pk in sorted(locked_in - shown)]
        + [("exclure", pk) for pk in sorted(locked_out - shown)],
        "column_count": console.columns,
        "years": call.funding_year_list,
        "proposal": proposal,
        "proposal_view": _proposal_view(call, proposal) if proposal else None,
        "error": outcome.error,
        "pending": outcome.pending,
        "ties": TieGroup.groups(analysis.ties, proposal.selected if proposal else ()),
        "tie_break": TIE_BREAK,
        "accept_form": accept_form,
        "published": bool(call.results_published_at),
        "draw": _draw_view(request, call),
        "query": request.GET.urlencode(),
    }


def _proposal_view(call: Call, proposal: Proposal) -> dict:
    return {
        "count": len(proposal.selected),
        "greedy_count": len(proposal.greedy),
        "total": format_euros(proposal.total_requested),
        "remaining": format_euros(proposal.remaining),
        "by_year": [
            (year, format_euros(amount))
            for year, amount in zip(call.funding_year_list, proposal.totals_by_year, strict=False)
        ],
        "gain": proposal.gain_over_greedy,
    }


def _draw_key(call: Call) -> str:
    return f"awards-draw-{call.pk}"


def _draw(request, call: Call, action: str) -> None:
    """A verifiable draw in two steps: the commitment (SHA-256 of a random seed kept in the
    session) is shown first; the seed and the order only when staff draw."""
    key = _draw_key(call)
    if action == "prepare-draw":
        wanted = parse_ids(request.POST.getlist("ids"))
        ids = sorted(Dossier.objects.filter(call=call, pk__in=wanted).values_list("pk", flat=True))
        if len(ids) < 2:
            messages.error(request, "Un tirage départage au moins deux dossiers de cet appel.")
            return
        seed = secrets.token_hex(16)
        _order, commitment = verifiable_draw(ids, seed)
        request.session[key] = {"ids": ids, "seed": seed, "commitment": commitment, "order": None}
        messages.success(request, f"Tirage préparé. Engagement à communiquer avant le tirage : {commitment}")
        return
    state = request.session.get(key)
    if not state:
        messages.error(request, "Préparez d'abord le tirage : son engagement doit être connu avant.")
        return
    if state["order"] is None:
        state["order"], _commitment = verifiable_draw(state["ids"], state["seed"])
        request.session[key] = state
    messages.success(request, "Tirage effectué : la graine est révélée, chacun peut vérifier l'ordre obtenu.")


def _draw_view(request, call: Call) -> dict | None:
    state = request.session.get(_draw_key(call))
    if not state:
        return None
    references = dict(Dossier.objects.filter(call=call, pk__in=state["ids"]).values_list("pk", "reference"))

    def label(pk):
        return references.get(pk) or f"n° {pk}"

    view = {
        "ids": ",".join(str(pk) for pk in state["ids"]),
        "references": [label(pk) for pk in state["ids"]],
        "commitment": state["commitment"],
        "drawn": state["order"] is not None,
    }
    if view["drawn"]:
        view["seed"] = state["seed"]
        view["order"] = [label(pk) for pk in state["order"]]
        view["verified"] = verify_draw(state["order"], state["seed"], state["commitment"])
    return view


# --- Decisions, publication and letters ---

OUTCOME_ORDER = {Decision.Outcome.LAUREATE: 0, Decision.Outcome.WAITING_LIST: 1, Decision.Outcome.NOT_SELECTED: 2}


@program_staff_required
@require_http_methods(["GET", "POST"])
def decisions_page(request, slug):
    call = get_object_or_404(Call, slug=slug)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "publish":
            try:
                created = services.publish_results(call, by=request.user)
            except ValidationError as refusal:
                messages.error(request, " ".join(refusal.messages))
            else:
                messages.success(
                    request,
                    f"Résultats publiés. {created} lettre(s) de décision préparée(s) : relisez-les, modifiez-les "
                    "si besoin, puis libérez-les pour les envoyer.",
                )
        elif action == "release":
            letters = list(DecisionLetter.objects.filter(decision__dossier__call=call, released_at__isnull=True))
            count = services.release_letters(letters, by=request.user)
            messages.success(request, f"{count} lettre(s) libérée(s) : elles partent par e-mail aux équipes.")
        else:
            return HttpResponseBadRequest("Action inconnue.")
        return redirect("awards:decisions", slug=call.slug)

    decisions = sorted(
        Decision.objects.filter(dossier__call=call).select_related("dossier__consortium", "award", "letter"),
        key=lambda decision: (OUTCOME_ORDER.get(decision.outcome, 9), decision.dossier.number or 0),
    )
    rows, letters = [], []
    for decision in decisions:
        award = getattr(decision, "award", None)
        rows.append(
            {
                "decision": decision,
                "amounts": [format_euros(amount) for amount in award.amounts] if award else [],
                "total": format_euros(award.total) if award else "",
                "admin_url": reverse("admin:awards_decision_change", args=[decision.pk]),
            }
        )
        letter = getattr(decision, "letter", None)
        if letter is not None:
            letters.append(
                {
                    "letter": letter,
                    "dossier": decision.dossier,
                    "admin_url": reverse("admin:awards_decisionletter_change", args=[letter.pk]),
                }
            )
    ledger = services.ledger(call)
    return render(
        request,
        "awards/decisions.html",
        {
            "call": call,
            "ledger": ledger,
            "ledger_years": [
                {
                    "year": line.year,
                    "requested": format_euros(line.requested),
                    "proposed": format_euros(line.proposed),
                    "awarded": format_euros(line.awarded),
                    "paid": format_euros(line.paid),
                }
                for line in ledger.years
            ],
            "ledger_totals": {
                name: format_euros(sum(getattr(line, name) for line in ledger.years))
                for name in ("requested", "proposed", "awarded", "paid")
            },
            "envelope": format_euros(ledger.envelope),
            "awarded_total": format_euros(ledger.awarded_total),
            "remaining": format_euros(ledger.remaining),
            "rows": rows,
            "letters": letters,
            "unreleased": sum(1 for item in letters if item["letter"].released_at is None),
            "years": call.funding_year_list,
            "exports": [
                (label, [(fmt.upper(), reverse("awards:export", args=[call.slug, liste, fmt])) for fmt in FORMATS])
                for liste, (label, _sheet) in LISTS.items()
            ],
        },
    )


# --- Exports ---


def export_rows(call: Call, *, laureates_only: bool) -> list[exports.ExportRow]:
    """One row per ranked dossier (rank order): awarded amounts for the laureates' list, requested
    amounts for the full list. A constant number of queries whatever the number of dossiers."""
    ranking = _ranking(call, "calibrated")
    decisions = {
        decision.dossier_id: decision
        for decision in Decision.objects.filter(dossier__call=call).select_related("award")
    }
    rows = ranking.rows
    if laureates_only:
        rows = [
            row
            for row in rows
            if row.dossier.pk in decisions and decisions[row.dossier.pk].outcome == Decision.Outcome.LAUREATE
        ]
    leads = _leads([row.dossier for row in rows])
    result = []
    for row in rows:
        decision = decisions.get(row.dossier.pk)
        award = getattr(decision, "award", None) if decision else None
        if laureates_only:
            amounts = list(award.amounts) if award else [0] * call.funding_years
        else:
            amounts = _requested(row.dossier, call.funding_years)
        result.append(
            exports.ExportRow(
                **_facts(row.dossier, leads),
                mean_score=row.raw_mean,
                calibrated_score=row.calibrated,
                decision=decision.get_outcome_display() if decision else "Sans décision",
                amounts=tuple(amounts),
            )
        )
    return result


def export_response(call: Call, liste: str, fmt: str) -> HttpResponse | StreamingHttpResponse | FileResponse:
    if liste not in LISTS or fmt not in FORMATS:
        raise Http404("Export inconnu.")
    title, sheet = LISTS[liste]
    rows = export_rows(call, laureates_only=liste == "laureats")
    years = call.funding_year_list
    if fmt == "csv":
        response = StreamingHttpResponse(exports.stream_csv(rows, years), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        # Written to a temporary file and sent from it (with its length): the workbook never sits
        # whole in the process's memory, however many dossiers the call has.
        out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
        try:
            exports.write_xlsx(rows, years, out, sheet_title=sheet)
        except BaseException:
            out.close()
            raise
        out.seek(0)
        response = FileResponse(out, content_type=XLSX_CONTENT_TYPE)
    else:
        pdf = exports.to_pdf(rows, years, title=title, call_title=call.title, generated_at=timezone.now())
        response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"{call.slug}-{liste}.{fmt}")
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


@program_staff_required
@require_safe
def export_view(request, slug, liste, fmt):
    call = get_object_or_404(Call, slug=slug)
    return export_response(call, liste, fmt)


# --- Public results and open data ---


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    type: str
    meaning: str


def open_data_columns(call: Call) -> list[Column]:
    priorities = ", ".join(f"« {label} »" for _code, label in TerritoryPriority.choices)
    return [
        Column("numero", "Numéro", "texte", "Numéro du dossier attribué au dépôt, par exemple PTCE-2013-0042."),
        Column("pole", "Pôle", "texte", "Nom du pôle territorial de coopération économique lauréat."),
        Column("communes", "Communes", "texte", "Communes du territoire du pôle, séparées par des virgules."),
        Column("departement", "Département", "texte", "Numéro du département (deux ou trois caractères, ex. 93, 2A)."),
        Column("region", "Région", "texte", "Nom de la région."),
        Column(
            "priorite_territoriale",
            "Priorité territoriale",
            "texte",
            f"Type de territoire prioritaire du pôle : {priorities}.",
        ),
        *(
            Column(
                f"montant_{year}",
                f"Montant {year}",
                "entier (euros)",
                f"Subvention attribuée pour l'année {year}, en euros, sans séparateur de milliers.",
            )
            for year in call.funding_year_list
        ),
        Column("total", "Total", "entier (euros)", "Subvention totale attribuée sur le programme, en euros."),
    ]


def _published_call(slug: str) -> Call:
    return get_object_or_404(Call.objects.published().filter(results_published_at__isnull=False), slug=slug)


def _public_laureates(call: Call) -> list[dict]:
    """The laureates' public facts and amounts, by pole name; a constant number of queries."""
    awards = list(
        Award.objects.filter(call=call, decision__outcome=Decision.Outcome.LAUREATE).select_related(
            "decision__dossier__consortium", "decision__dossier__current_submission"
        )
    )
    result = []
    for award in awards:
        facts = _facts(award.decision.dossier, {})
        amounts = list(award.amounts)
        result.append(
            {
                "numero": facts["reference"],
                "pole": facts["pole"],
                "communes": facts["commune"],
                "departement": facts["departement"],
                "region": facts["region"],
                "priorite_territoriale": facts["territory_priority"],
                **{f"montant_{year}": amount for year, amount in zip(call.funding_year_list, amounts, strict=False)},
                "total": award.total,
                "amounts": amounts,
            }
        )
    return sorted(result, key=lambda item: (sort_key(item["pole"]), item["numero"]))


@require_safe
def public_results(request, slug):
    call = _published_call(slug)
    laureates = _public_laureates(call)
    for item in laureates:
        item["amounts_display"] = [format_euros(amount) for amount in item["amounts"]]
        item["total_display"] = format_euros(item["total"])
    sums = [sum(item["amounts"][index] for item in laureates) for index in range(call.funding_years)]
    return render(
        request,
        "awards/public_results.html",
        {
            "call": call,
            "laureates": laureates,
            "years": call.funding_year_list,
            "sums": [format_euros(amount) for amount in sums],
            "grand_total": format_euros(sum(sums)),
        },
    )


@require_safe
def public_data(request, slug):
    call = _published_call(slug)
    return render(request, "awards/public_data.html", {"call": call, "columns": open_data_columns(call)})


@require_safe
def public_csv(request, slug):
    call = _published_call(slug)
    names = [column.name for column in open_data_columns(call)]
    buffer = io.StringIO()
    buffer.write(exports.BOM)
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(names)
    for item in _public_laureates(call):
        writer.writerow(
            [exports.neutralise(item[name]) if isinstance(item[name], str) else item[name] for name in names]
        )
    response = HttpResponse(buffer.getvalue().encode(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{call.slug}-laureats.csv")
    return response


@require_safe
def public_json(request, slug):
    call = _published_call(slug)
    names = [column.name for column in open_data_columns(call)]
    return JsonResponse(
        {
            "appel": {
                "identifiant": call.slug,
                "intitule": call.title,
                "enveloppe": call.envelope,
                "annees": call.funding_year_list,
                "resultats_publies_le": call.results_published_at.isoformat(),
            },
            "documentation": request.build_absolute_uri(reverse("awards:public-data", args=[call.slug])),
            "laureats": [{name: item[name] for name in names} for item in _public_laureates(call)],
        },
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )


# --- Laureates: decision letter and yearly reports ---


def _published_award(request, pk: int, *, edit: bool = False) -> tuple[Dossier, Membership, Award]:
    """The laureate's award, to members of its consortium, once results are published; 404 otherwise."""
    dossier, membership = dossier_for(request.user, pk, edit=edit)
    award = (
        Award.objects.filter(
            decision__dossier=dossier,
            decision__outcome=Decision.Outcome.LAUREATE,
            call__results_published_at__isnull=False,
        )
        .select_related("call")
        .first()
    )
    if award is None:
        raise Http404("Aucune subvention publiée pour ce dossier.")
    return dossier, membership, award


@login_required
@require_safe
def letter_pdf(request, pk):
    dossier, _membership = dossier_for(request.user, pk)
    letter = DecisionLetter.objects.filter(
        decision__dossier=dossier,
        decision__dossier__call__results_published_at__isnull=False,
        released_at__isnull=False,
        pdf_rendered_at__isnull=False,
    ).first()
    if letter is None:
        raise Http404("La lettre de décision n'est pas disponible.")
    return private_download(letter.pdf, f"decision-{dossier.reference}.pdf", "application/pdf")


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def reports_page(request, pk):
    # As for attachments: the size-limiting upload handler goes in before anything reads the
    # body, the CSRF check included, hence csrf_exempt here and csrf_protect on the inner view.
    dossier, membership, award = _published_award(request, pk, edit=request.method == "POST")
    size_limit = SizeLimitUploadHandler(request, max_bytes=settings.ATTACHMENT_MAX_BYTES)
    if request.method == "POST":
        request.upload_handlers = [size_limit, *request.upload_handlers]
    return _reports_page(request, dossier=dossier, membership=membership, award=award, size_limit=size_limit)


@csrf_protect
def _reports_page(request, *, dossier, membership, award, size_limit):
    reports = list(award.reports.select_related("uploaded_by"))
    approved = {report.year_index for report in reports if report.approved_at}
    years = [
        (index, f"Année {index} ({year})")
        for index, year in enumerate(award.call.funding_year_list, start=1)
        if index not in approved
    ]
    form = None
    if membership.can_edit and years:
        if request.method == "POST":
            form = ReportUploadForm(
                request.POST,
                request.FILES,
                years=years,
                max_bytes=size_limit.max_bytes,
                too_large=size_limit.too_large,
            )
            if form.is_valid():
                try:
                    report = services.add_report(
                        award,
                        year_index=form.cleaned_data["year_index"],
                        uploaded_file=form.cleaned_data["file"],
                        by=request.user,
                    )
                except ValidationError as refusal:
                    form.add_error("file", refusal)
                else:
                    messages.success(request, f"Le rapport « {report.original_name} » a été déposé.")
                    return redirect("awards:reports", pk=dossier.pk)
        else:
            form = ReportUploadForm(years=years, max_bytes=size_limit.max_bytes)
    elif request.method == "POST":
        messages.error(request, "Aucun rapport ne peut être déposé pour ce dossier.")
        return redirect("awards:reports", pk=dossier.pk)
    return render(
        request,
        "awards/reports.html",
        {
            "dossier": dossier,
            "award": award,
            "reports": [(report, award.call.first_funding_year + report.year_index - 1) for report in reports],
            "form": form,
            "can_edit": membership.can_edit,
        },
    )


@login_required
@require_safe
def report_download(request, pk, report_pk):
    _dossier, _membership, award = _published_award(request, pk)
    report = get_object_or_404(ActivityReport.objects.filter(award=award), pk=report_pk)
    return private_download(report.file, report.original_name)
