"""What the selection console computes over the whole call, kept per state of the stored ranking.

A page of the console shows `LINES_PER_PAGE` dossiers, but what it says about them (the running
total, where the envelope and the target number of laureates are reached, the proposal, the
marginal costs, the ties at the cut) is computed over every dossier of the call. Those results are
kept in the cache under the call's ranking stamp (`reviews.ranking_store.fresh_stamp`: it moves with
any change the ranking reads, and with a pole renamed or moved to another region) and the call's
budget figures. A request then reads the stamp, a few cache entries and one page of stored lines;
the whole call is read again only for what the cache does not hold.

Never stale: a key names the stamp it was computed under, so a change gives new keys and the old
entries are simply no longer asked for (they expire).
"""

from __future__ import annotations

import dataclasses
import hashlib
import unicodedata
from collections.abc import Iterable
from functools import cached_property
from html import escape

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.utils.safestring import mark_safe

from applications.models import Call, TerritoryPriority
from applications.sections import format_euros
from reviews.models import RankedDossier
from reviews.ranking_store import REGION_LABELS, StoredLine, fresh_stamp, stored_lines
from reviews.templatetags.scores import score as score_text

from .proposals import KEEP_FOR, Outcome, exact_proposal
from .selection import Candidate, Constraints, Proposal, marginal_costs, ties_at_cut

# Dossiers of the console per page: a call of thousands would otherwise send megabytes of rows.
LINES_PER_PAGE = 50
# Marginal costs are computed for the proposed dossiers and this many next in line.
NEXT_IN_LINE = 10
PRIORITY_LABELS = dict(TerritoryPriority.choices)


def sort_key(text: str) -> str:
    """French alphabetical order: accents and case do not count."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def amounts_for_years(asked: Iterable, years: int) -> list[int]:
    """The amounts asked, one per funding year of the call (missing years ask nothing)."""
    amounts = [int(amount) for amount in asked][:years]
    return amounts + [0] * (years - len(amounts))


MARKER_ROW = '<tr class="table-warning"><td colspan="{columns}"><strong>{marker}</strong></td></tr>'
LINE_ROW = (
    "<tr{tone}>"
    '<td><input class="form-check-input" type="checkbox" form="selection-form" name="imposer" value="{pk}" '
    'id="imposer-{pk}"{checked_in}><label class="visually-hidden" for="imposer-{pk}">Imposer {reference}</label></td>'
    '<td><input class="form-check-input" type="checkbox" form="selection-form" name="exclure" value="{pk}" '
    'id="exclure-{pk}"{checked_out}><label class="visually-hidden" for="exclure-{pk}">Exclure {reference}</label></td>'
    '<td>{rank}</td><td class="text-nowrap">{reference}</td><td>{pole}{eliminated}</td>'
    '<td>{region}</td><td>{priority}</td><td class="text-end">{note}</td>{amounts}'
    '<td class="text-end text-nowrap">{requested}</td><td class="text-end text-nowrap">{cumulative}</td>'
    '<td>{proposed}</td><td>{greedy}</td><td class="text-end text-nowrap">{cost}</td>'
    "</tr>"
)
AMOUNT_CELL = '<td class="text-end text-nowrap">{}</td>'
ELIMINATED_BADGE = ' <span class="badge text-bg-danger">Éliminé : {}</span>'
PROPOSED_BADGE = '<span class="badge text-bg-success">Proposé</span>'
GREEDY_BADGE = '<span class="badge text-bg-secondary">Retenu</span>'
TONE_ELIMINATED = ' class="text-body-secondary"'
TIE_ITEM = "<li>{reference} — {score} points{proposed}</li>"


@dataclasses.dataclass
class Line:
    """One line of the console, or a marker between lines, with its table row."""

    row: StoredLine | None = None
    candidate: Candidate | None = None
    running_total: int | None = None
    score: float | None = None
    selected: bool = False
    greedy: bool = False
    locked_in: bool = False
    locked_out: bool = False
    cost: float | None = None
    has_cost: bool = False
    marker: str = ""
    landmark: str = ""  # the marker's name in the links to its page
    columns: int = 0

    def html(self) -> str:
        """The table row, written here as Django admin writes its result rows: through the
        template engine, or through `format_html` (its lazy-aware escaping of each of some twenty
        values), a page's rows cost more than the rest of the page. Texts are escaped with
        `html.escape`; numbers and amounts are formatted here and hold no markup."""
        if self.marker:
            return mark_safe(MARKER_ROW.format(columns=self.columns, marker=escape(self.marker)))
        candidate, row = self.candidate, self.row
        return mark_safe(
            LINE_ROW.format(
                tone=' class="table-success"' if self.selected else TONE_ELIMINATED if row.eliminated_by else "",
                pk=candidate.id,
                reference=escape(candidate.reference),
                checked_in=" checked" if self.locked_in else "",
                checked_out=" checked" if self.locked_out else "",
                rank="—" if row.rank is None else row.rank,
                pole=escape(row.dossier.consortium.name),
                eliminated="".join(ELIMINATED_BADGE.format(escape(name)) for name in row.eliminated_by),
                region=escape(candidate.region),
                priority=escape(candidate.territory_priority),
                note=score_text(self.score, 2),
                amounts="".join(AMOUNT_CELL.format(format_euros(amount)) for amount in candidate.requested_by_year),
                requested=format_euros(candidate.requested),
                cumulative="—" if self.running_total is None else format_euros(self.running_total),
                proposed=PROPOSED_BADGE if self.selected else "",
                greedy=GREEDY_BADGE if self.greedy else "",
                cost=self._cost(),
            )
        )

    def _cost(self) -> str:
        if not self.has_cost:
            return ""
        return "impossible" if self.cost is None else f"{score_text(self.cost, 2)} pt"


@dataclasses.dataclass(frozen=True)
class Marker:
    before: int  # index of the line it precedes (the number of lines above it)
    landmark: str
    text: str


@dataclasses.dataclass(frozen=True)
class Layout:
    """The whole call in rank order, reduced to what every page needs."""

    count: int
    regions: list[tuple[str, str]]  # (code, label) of the regions of the ranked poles, by label
    running: list[int | None]  # running total asked, per line; None for a dossier without a rank
    markers: list[Marker]


@dataclasses.dataclass(frozen=True)
class Analysis:
    costs: dict[int, float | None]
    ties: list[list[Candidate]]


@dataclasses.dataclass(frozen=True)
class TieGroup:
    """Dossiers tied or nearly tied across the cut, as the page lists them: at 10,000 dossiers a
    few hundred, each looked up in a proposal of a thousand ids; written here like the lines."""

    items: str  # the <li> of each dossier, escaped
    ids: str  # their ids, comma-separated, for the draw's form

    @classmethod
    def groups(cls, ties: list[list[Candidate]], selected: Iterable[int]) -> list[TieGroup]:
        chosen = set(selected)
        return [
            cls(
                items=mark_safe(
                    "".join(
                        TIE_ITEM.format(
                            reference=escape(candidate.reference),
                            score=score_text(candidate.score, 2),
                            proposed=" (proposé)" if candidate.id in chosen else "",
                        )
                        for candidate in group
                    )
                ),
                ids=",".join(str(candidate.id) for candidate in group),
            )
            for group in ties
        ]


class Console:
    """The console of one call in one order (calibrated or raw), as of its current ranking stamp."""

    def __init__(self, call: Call, order: str) -> None:
        self.call = call
        self.order = "raw" if order == "raw" else "calibrated"
        state = (call.pk, fresh_stamp(call), self.order, call.envelope, call.target_laureates, call.funding_years)
        self.key = f"awards:console:{hashlib.sha256(repr(state).encode()).hexdigest()}"
        self._candidates: dict[str, list[Candidate]] = {}

    # --- The whole call, read only when the cache lacks something ---

    @cached_property
    def lines(self) -> list[StoredLine]:
        return stored_lines(self.call, self.order)

    def candidates(self, score: str) -> list[Candidate]:
        """Every dossier as the selection sees it, `score` ("calibrated" or "raw_mean") its note."""
        if score not in self._candidates:
            self._candidates[score] = [self._candidate(line, index, score) for index, line in enumerate(self.lines)]
        return self._candidates[score]

    def _candidate(self, line: StoredLine, index: int, score: str) -> Candidate:
        asked = amounts_for_years(line.requested, self.call.funding_years)
        value = getattr(line, score)
        pole = line.dossier.consortium
        return Candidate(
            id=line.dossier.pk,
            # Calibration can push a severe reviewer's low score a little below zero; the
            # programme needs non-negative scores, and such a dossier is far from the cut.
            score=None if value is None else max(0.0, value),
            requested=sum(asked),
            requested_by_year=tuple(asked),
            region=pole.region_label,
            territory_priority=PRIORITY_LABELS.get(pole.territory_priority, pole.territory_priority),
            eliminated=bool(line.eliminated_by),
            rank_key=(index,),
            reference=line.dossier.reference,
        )

    # --- Cached over the whole call ---

    @cached_property
    def layout(self) -> Layout:
        layout = cache.get(self.key)
        if layout is None:
            layout = self._layout()
            cache.set(self.key, layout, KEEP_FOR)
        return layout

    def _layout(self) -> Layout:
        """The running total and a marker where the envelope and where the target number of
        laureates are reached, counting the dossiers that have a rank."""
        call = self.call
        running: list[int | None] = []
        markers = []
        cumulative = counted = 0
        envelope_reached = False
        for index, line in enumerate(self.lines):
            if line.rank is None:
                running.append(None)
                continue
            asked = sum(amounts_for_years(line.requested, call.funding_years))
            if not envelope_reached and cumulative + asked > call.envelope:
                envelope_reached = True
                markers.append(
                    Marker(
                        index,
                        "Enveloppe atteinte",
                        f"Enveloppe atteinte : les dossiers ci-dessus demandent {format_euros(cumulative)} "
                        f"pour une enveloppe de {format_euros(call.envelope)} ; le suivant la dépasserait.",
                    )
                )
            cumulative += asked
            counted += 1
            running.append(cumulative)
            if counted == call.target_laureates:
                markers.append(
                    Marker(
                        index + 1,
                        "Nombre de lauréats visé atteint",
                        f"Nombre de lauréats visé atteint ({call.target_laureates}) : "
                        f"{format_euros(cumulative)} demandés par les dossiers ci-dessus.",
                    )
                )
        codes = {line.dossier.consortium.region for line in self.lines}
        regions = sorted(((code, REGION_LABELS.get(code, code)) for code in codes), key=lambda pair: sort_key(pair[1]))
        return Layout(count=len(running), regions=regions, running=running, markers=markers)

    def outcome(self, score: str, constraints: Constraints) -> Outcome:
        """The exact proposal (proposals.exact_proposal), solved from every line only when needed."""
        return exact_proposal(
            self._key(score, constraints), constraints, lambda: self.candidates(score), size=self.layout.count
        )

    def analysis(self, score: str, constraints: Constraints, proposal: Proposal, *, costs: bool, near: float):
        """The marginal costs (when asked) of the proposed dossiers and the next in line, and the
        groups of dossiers tied at the cut."""
        key = f"{self._key(score, constraints)}:analysis:{costs}:{near!r}"
        analysis = cache.get(key)
        if analysis is None:
            candidates = self.candidates(score)
            marginal = {}
            if costs:
                chosen = set(proposal.selected)
                next_ids = [
                    c.id
                    for c in candidates
                    if c.id not in chosen
                    and not c.eliminated
                    and c.score is not None
                    and c.id not in constraints.locked_out
                ][:NEXT_IN_LINE]
                marginal = marginal_costs(candidates, constraints, proposal, ids=[*proposal.selected, *next_ids])
            by_id = {candidate.id: candidate for candidate in candidates}
            ties = [[by_id[pk] for pk in group] for group in ties_at_cut(candidates, proposal, near=near)]
            analysis = Analysis(costs=marginal, ties=ties)
            cache.set(key, analysis, KEEP_FOR)
        return analysis

    def _key(self, score: str, constraints: Constraints) -> str:
        state = dataclasses.asdict(constraints)
        state["locked_in"], state["locked_out"] = sorted(constraints.locked_in), sorted(constraints.locked_out)
        digest = hashlib.sha256(repr((score, sorted(state.items()))).encode()).hexdigest()
        return f"{self.key}:proposal:{digest}"

    # --- Per request ---

    @property
    def columns(self) -> int:
        """Columns of the console's table: thirteen and one amount per funding year."""
        return 13 + self.call.funding_years

    def known(self, ids: Iterable[int]) -> set[int]:
        """Those of `ids` that are dossiers of this console (one query, only when there are some)."""
        ids = set(ids)
        if not ids:
            return set()
        return set(
            RankedDossier.objects.filter(call=self.call, dossier_id__in=ids).values_list("dossier_id", flat=True)
        )

    def page(
        self,
        number,
        *,
        score: str,
        proposal: Proposal | None,
        costs: dict[int, float | None],
        locked_in: set[int],
        locked_out: set[int],
    ) -> tuple[Page, list[Line]]:
        """Page `number` of the console: its dossiers in rank order, with the markers that fall
        among them (one query for the page's stored lines)."""
        layout = self.layout
        page = Paginator(range(layout.count), LINES_PER_PAGE).get_page(number)
        start, stop = page.start_index() - 1, page.end_index()
        rows = self.lines[start:stop] if "lines" in self.__dict__ else stored_lines(self.call, self.order, start, stop)
        selected = set(proposal.selected) if proposal else set()
        greedy = set(proposal.greedy) if proposal else set()
        last = stop == layout.count
        columns = self.columns
        markers = [m for m in layout.markers if start <= m.before < stop or (last and m.before == stop)]
        lines = []
        for index, row in enumerate(rows, start=start):
            lines += [Line(marker=m.text, landmark=m.landmark, columns=columns) for m in markers if m.before == index]
            candidate = self._candidate(row, index, score)
            lines.append(
                Line(
                    row=row,
                    candidate=candidate,
                    running_total=layout.running[index] if index < layout.count else None,
                    score=getattr(row, score),
                    selected=candidate.id in selected,
                    greedy=candidate.id in greedy,
                    locked_in=candidate.id in locked_in,
                    locked_out=candidate.id in locked_out,
                    cost=costs.get(candidate.id),
                    has_cost=candidate.id in costs,
                    columns=columns,
                )
            )
        lines += [
            Line(marker=m.text, landmark=m.landmark, columns=columns) for m in markers if m.before == stop and last
        ]
        return page, lines

    def marker_pages(self, paginator: Paginator) -> list[tuple[str, int]]:
        """(landmark, page number) of each marker, on the pages of `paginator` (that of `page`)."""
        return [(m.landmark, min(m.before // paginator.per_page + 1, paginator.num_pages)) for m in self.layout.markers]
