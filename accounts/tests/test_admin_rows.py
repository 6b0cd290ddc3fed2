"""The changelists of NarrowedHistoryAdmin write their rows themselves (accounts.admin_rows): every
page must be the one Django's own template would have written, byte for byte, whatever the list
shows, its sorting, filters and search."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin, helpers
from django.contrib.admin.templatetags.admin_list import items_for_result
from django.urls import reverse
from django.utils.safestring import mark_safe

from accounts.admin import KeptMarkup, NarrowedHistoryAdmin
from accounts.admin_rows import RowWriter
from accounts.tests.factories import UserFactory
from applications.models import Dossier
from applications.tests.factories import DossierFactory
from awards.tests.factories import laureate, submitted_with_request
from conftest import sign_in
from reviews.models import Conflict, Review
from reviews.tests.factories import ReviewerFactory, assignment, criteria_for

NARROWED = sorted(
    (model_admin for model_admin in admin.site._registry.values() if isinstance(model_admin, NarrowedHistoryAdmin)),
    key=lambda model_admin: model_admin.opts.label,
)
# The per-render CSRF mask is the only part of two renders of a page that may differ.
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def listed(db, program_staff):
    """Rows in most lists: a laureate with its award, a draft, a review, a declared conflict."""
    decision = laureate(submitted_with_request(consortium__name="Pôle <Sud> & fils"), program_staff)
    DossierFactory(call=decision.dossier.call, consortium__name="Pôle Nord", status=Dossier.Status.DRAFT)
    criteria_for(decision.dossier.call)
    reviewer = ReviewerFactory(first_name="Camille", last_name="Durand")
    Review.objects.create(assignment=assignment(reviewer=reviewer, dossier=decision.dossier))
    Conflict.objects.create(
        reviewer=reviewer, dossier=decision.dossier, source=Conflict.Source.choices[0][0], reason="Ancien salarié"
    )
    return decision


def both_renders(client, monkeypatch, model_admin, query: str) -> tuple[str, str]:
    url = reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist") + query
    ours = client.get(url)
    monkeypatch.setattr(model_admin, "change_list_template", "admin/change_list.html")
    django = client.get(url)
    monkeypatch.undo()
    assert ours.status_code == django.status_code == 200
    return CSRF.sub("", ours.content.decode()), CSRF.sub("", django.content.decode())


def test_every_narrowed_changelist_writes_django_rows(client, monkeypatch, listed):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    sign_in(client, superuser)
    with_rows = set()

    for model_admin in NARROWED:
        ours, django = both_renders(client, monkeypatch, model_admin, "")
        assert ours == django, model_admin.opts.label
        if 'id="result_list"' in ours:
            with_rows.add(model_admin.opts.label)

    # The comparison means something only where there are rows to write.
    assert {
        "applications.Call",
        "applications.Consortium",
        "applications.Dossier",
        "reviews.Criterion",
        "reviews.ReviewerProfile",
        "reviews.Conflict",
        "reviews.Assignment",
        "reviews.Review",
        "awards.Decision",
        "awards.Award",
    } <= with_rows


@pytest.mark.parametrize(
    "query",
    [
        "?o=-3.2",  # sorted on two columns: the headers' sort links and priorities
        "?call__id__exact={call}&q=P%C3%B4le",  # filtered and searched: links keep the filters
    ],
)
def test_sorted_filtered_and_searched_dossier_lists_are_unchanged(client, monkeypatch, listed, program_staff, query):
    sign_in(client, program_staff)
    model_admin = admin.site._registry[Dossier]
    query = query.format(call=listed.dossier.call_id)
    ours, django = both_renders(client, monkeypatch, model_admin, query)

    assert ours == django
    if "q=" in query:
        assert f"_changelist_filters=call__id__exact%3D{listed.dossier.call_id}%26q%3DP%25C3%25B4le" in ours
    assert "Pôle &lt;Sud&gt; &amp; fils" in ours


class Row:
    """A row as action_checkbox sees it: an id and a name."""

    _meta = Dossier._meta  # for Django's lookup of the column

    def __init__(self, pk, name):
        self.pk, self.name = pk, name

    def __str__(self):
        return self.name


@pytest.mark.parametrize("action_checkbox", ["NarrowedHistoryAdmin's", "Django's", "another"])
def test_row_checkboxes_are_those_of_the_model_admin(client, monkeypatch, listed, action_checkbox):
    model_admin = admin.site._registry[Dossier]
    if action_checkbox == "Django's":
        monkeypatch.setattr(model_admin, "action_checkbox", ModelAdmin.action_checkbox.__get__(model_admin))
    elif action_checkbox == "another":
        monkeypatch.setattr(model_admin, "action_checkbox", lambda obj: mark_safe(f'<input value="{obj.pk}">'))
    sign_in(client, UserFactory(is_staff=True, is_superuser=True))
    cl = client.get(reverse("admin:applications_dossier_changelist")).context_data["cl"]
    writer = RowWriter(cl)
    checkboxes = writer.columns[0]
    assert checkboxes.name == "action_checkbox"
    # Rendered once for the page only for the two functions known to depend on the row's id and name alone.
    assert (checkboxes.checkbox is None) == (action_checkbox == "another")

    rows = [
        *cl.result_list,
        Row(7, 'Pôle <Sud> & "fils" l\'{0} {}'),  # escaped, braces kept
        Row(8, mark_safe("<b>déjà sûr</b>")),  # safe markup: Django keeps it, NarrowedHistoryAdmin escapes it
        Row("", "sans identifiant"),  # Django's widget leaves an empty value out
        Row("a&b", "identifiant texte"),
    ]
    for row in rows:
        # The first cell of Django's own row is the checkbox.
        assert checkboxes.cell(row, writer) == next(items_for_result(cl, row, None)), row


def test_kept_action_forms_write_djangos_markup(client, monkeypatch, listed):
    sign_in(client, UserFactory(is_staff=True, is_superuser=True))
    KeptMarkup._kept.clear()

    for model_admin in NARROWED:
        url = reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist")
        first, again = (CSRF.sub("", client.get(url).content.decode()) for _ in range(2))  # written, then kept
        monkeypatch.setattr(model_admin, "action_form", helpers.ActionForm)
        django = CSRF.sub("", client.get(url).content.decode())
        monkeypatch.undo()

        assert first == again == django, model_admin.opts.label
    assert 'name="action"' in first
    # One select per set of actions, one hidden input: what a page writes again is found, not written.
    assert 2 <= len(KeptMarkup._kept) <= len(NARROWED) + 1


def test_kept_action_forms_offer_each_user_only_their_own_actions(client, monkeypatch, listed, program_staff):
    # Kept per set of actions: a superuser's select (with deletion) is never shown to program staff.
    url = reverse("admin:applications_dossier_changelist")
    KeptMarkup._kept.clear()
    pages = {}
    for user in (UserFactory(is_staff=True, is_superuser=True), program_staff):
        client.logout()
        sign_in(client, user)
        ours = CSRF.sub("", client.get(url).content.decode())
        monkeypatch.setattr(admin.site._registry[Dossier], "action_form", helpers.ActionForm)
        django = CSRF.sub("", client.get(url).content.decode())
        monkeypatch.undo()
        assert ours == django
        pages[user.is_superuser] = ours

    assert 'value="delete_selected"' in pages[True]
    assert 'value="delete_selected"' not in pages[False]
