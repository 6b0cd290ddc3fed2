"""The admin changelists of NarrowedHistoryAdmin: rows load only the columns they show and build
their change links from one reversed URL; what staff read, follow and select is unchanged."""

import re

from django.urls import reverse
from django.utils import timezone

from applications.models import Dossier
from applications.tests.factories import DossierFactory
from awards.models import Tranche
from awards.services import set_tranche_status
from awards.tests.factories import laureate, submitted_with_request
from conftest import sign_in
from reviews.models import Review
from reviews.tests.factories import ReviewerFactory, assignment, submitted_dossier


def row_of(response, change_url: str) -> str:
    """The <tr> of the row whose first column links to `change_url`."""
    html = response.content.decode()
    link = html.index(f'<a href="{change_url}">')
    return html[html.rindex("<tr", 0, link) : html.index("</tr>", link)]


def test_dossier_rows_link_to_their_change_page_and_show_their_columns(client, program_staff):
    dossier = submitted_dossier(reference="PTCE-T-0042", consortium__name="Pôle <Sud>")
    draft = DossierFactory(call=dossier.call, consortium__name="Pôle Nord", status=Dossier.Status.DRAFT)
    sign_in(client, program_staff)

    response = client.get(reverse("admin:applications_dossier_changelist"))

    assert response.status_code == 200
    row = row_of(response, reverse("admin:applications_dossier_change", args=[dossier.pk]))
    assert (
        f'<input type="checkbox" name="_selected_action" value="{dossier.pk}" class="action-select" '
        'aria-label="Choisir cet objet pour une action - PTCE-T-0042">'
    ) in row
    assert "Pôle &lt;Sud&gt;" in row
    assert dossier.call.title in row
    assert timezone.localtime(dossier.deadline).strftime("%d/%m/%Y %H:%M") in row
    draft_row = row_of(response, reverse("admin:applications_dossier_change", args=[draft.pk]))
    assert "Pôle Nord (brouillon)" in draft_row


def test_review_rows_name_their_dossier_and_reviewer(client, program_staff):
    reviewer = ReviewerFactory(first_name="Camille", last_name="Durand")
    review = Review.objects.create(assignment=assignment(reviewer=reviewer, dossier=submitted_dossier()))
    sign_in(client, program_staff)

    response = client.get(reverse("admin:reviews_review_changelist"))

    row = row_of(response, reverse("admin:reviews_review_change", args=[review.pk]))
    assert "PTCE-T-0001 — Camille Durand" in row


def test_award_rows_name_their_dossier_and_pole(client, program_staff):
    decision = laureate(submitted_with_request(consortium__name="Pôle Est"), program_staff)
    sign_in(client, program_staff)

    response = client.get(reverse("admin:awards_award_changelist"))

    row = row_of(response, reverse("admin:awards_award_change", args=[decision.award.pk]))
    assert decision.dossier.reference in row
    assert "Pôle Est" in row
    assert decision.dossier.call.title in row


def test_award_rows_count_their_payable_tranches_and_sort_by_them(client, program_staff):
    one = laureate(submitted_with_request(consortium__name="Pôle Un"), program_staff).award
    call = one.call
    two = laureate(submitted_with_request(call, consortium__name="Pôle Deux"), program_staff).award
    set_tranche_status(two.tranches.get(position=2), Tranche.Status.PAYABLE, by=program_staff)
    none = laureate(submitted_with_request(call, consortium__name="Pôle Zéro"), program_staff).award
    set_tranche_status(none.tranches.get(position=1), Tranche.Status.PAID, by=program_staff)
    sign_in(client, program_staff)
    changelist = reverse("admin:awards_award_changelist")

    response = client.get(changelist)

    for award, payable in ((one, 1), (two, 2), (none, 0)):
        row = row_of(response, reverse("admin:awards_award_change", args=[award.pk]))
        assert f'<td class="field-payable_tranches">{payable}</td>' in row
    # The column sorts, as its header offers: fewest to pay first.
    header = response.content.decode().split('class="sortable column-payable_tranches', 1)[1]
    sort_url = re.search(r'<a href="(\?o=[^"]+)"', header).group(1).replace("&amp;", "&")
    html = client.get(changelist + sort_url).content.decode()
    assert html.index("Pôle Zéro") < html.index("Pôle Un") < html.index("Pôle Deux")
