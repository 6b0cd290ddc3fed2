"""The admin's list of apps and models is kept per set of rights (accounts.admin_site): what each
user is shown must stay what Django works out for them, and follow any change of their rights."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.admin_site import PortalAdminSite
from accounts.roles import Role
from accounts.tests.factories import UserFactory
from applications.tests.factories import DossierFactory
from conftest import sign_in

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def shown(app_list) -> list[tuple]:
    """What the sidebar and the index show of an app list: apps, models, their links and rights."""
    return [
        (
            app["app_label"],
            app["app_url"],
            [(m["object_name"], m["admin_url"], m["add_url"], m["perms"]) for m in app["models"]],
        )
        for app in app_list
    ]


def fresh_app_list(request):
    return admin.sites.AdminSite.get_app_list(admin.site, request)


@pytest.fixture
def kept(db):
    admin.site._app_lists.clear()
    admin.site._sidebars.clear()
    yield admin.site._app_lists
    admin.site._app_lists.clear()
    admin.site._sidebars.clear()


def test_the_portal_site_is_the_admin_site():
    assert isinstance(admin.site, PortalAdminSite)
    assert admin.site.site_header == "Portail PTCE — administration"


@pytest.mark.parametrize("role", [Role.PROGRAM_STAFF, Role.REVIEWER, "superuser"])
def test_every_role_is_shown_what_django_works_out_for_it(client, kept, role):
    user = UserFactory(is_superuser=True, is_staff=True) if role == "superuser" else UserFactory(role=role)
    sign_in(client, user)

    first = client.get(reverse("admin:index"))  # computed, then kept
    again = client.get(reverse("admin:index"))  # the kept list

    for response in (first, again):
        assert response.status_code == 200
        assert shown(response.context["available_apps"]) == shown(fresh_app_list(response.wsgi_request))
    assert len(kept) == 1


def test_a_change_of_rights_is_shown_at_once(client, kept, reviewer):
    sign_in(client, reviewer)
    jobs_link = reverse("admin:jobs_job_changelist")

    before = client.get(reverse("admin:index"))
    reviewer.user_permissions.add(Permission.objects.get(content_type__app_label="jobs", codename="view_job"))
    after = client.get(reverse("admin:index"))

    assert jobs_link not in before.content.decode()
    assert jobs_link in after.content.decode()
    assert shown(after.context["available_apps"]) == shown(fresh_app_list(after.wsgi_request))
    assert len(kept) == 2


def test_users_with_the_same_rights_share_one_list(client, kept):
    # Three program staff in turn: the list is computed once.
    for _ in range(3):
        client.logout()
        sign_in(client, UserFactory(role=Role.PROGRAM_STAFF))
        assert client.get(reverse("admin:index")).status_code == 200

    assert len(kept) == 1


def test_the_kept_sidebar_highlights_the_page_it_is_on(client, kept, program_staff):
    dossier = DossierFactory()
    sign_in(client, program_staff)
    dossiers = reverse("admin:applications_dossier_changelist")
    pages = [
        (dossiers, '<tr class="model-dossier current-model">'),
        (reverse("admin:reviews_review_changelist"), '<tr class="model-review current-model">'),
        (reverse("admin:applications_dossier_change", args=[dossier.pk]), '<tr class="model-dossier current-model">'),
        (dossiers, f'<a href="{dossiers}" aria-current="page">'),
    ]

    for url, highlight in pages:
        kept_page = client.get(url).content.decode()  # the sidebars of the pages before are kept
        admin.site._sidebars.clear()
        written_page = client.get(url).content.decode()  # this one written afresh

        assert highlight in kept_page
        assert CSRF.sub("", kept_page) == CSRF.sub("", written_page)
    assert kept_page.count("current-model") == 1
