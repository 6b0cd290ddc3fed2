import pytest
from django.contrib.auth import backends
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import ModelBackend
from accounts.models import User
from accounts.roles import Role
from accounts.tests.factories import UserFactory
from conftest import sign_in


def test_role_groups_exist_after_migrate(db):
    names = sorted(Group.objects.values_list("name", flat=True))
    assert names == sorted(role.label for role in Role)


def test_program_staff_group_has_its_permissions(db):
    codenames = set(Group.objects.get(name=Role.PROGRAM_STAFF.label).permissions.values_list("codename", flat=True))
    assert {"view_user", "change_user", "view_dossier", "change_dossier", "view_job", "change_job"} <= codenames


def test_anonymous_is_sent_to_admin_login(client, db):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_applicant_is_kept_out_of_admin(client, applicant):
    sign_in(client, applicant)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("role_fixture", ["reviewer", "program_staff"])
def test_reviewer_and_staff_reach_admin(client, request, role_fixture):
    sign_in(client, request.getfixturevalue(role_fixture))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200


def test_an_admin_page_reads_roles_and_permissions_in_one_query(client, program_staff):
    sign_in(client, program_staff)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:applications_dossier_changelist"))

    assert response.status_code == 200
    rights = [query["sql"] for query in queries if "auth_permission" in query["sql"] or "auth_group" in query["sql"]]
    assert len(rights) == 1, rights


@pytest.mark.parametrize("kind", ["own", "group", "both", "inactive", "superuser", "none"])
def test_permissions_are_those_djangos_backend_works_out(db, kind):
    user = UserFactory(role=Role.REVIEWER, is_active=kind != "inactive", is_superuser=kind == "superuser")
    if kind in ("own", "both", "inactive"):
        user.user_permissions.add(Permission.objects.get(content_type__app_label="jobs", codename="view_job"))
    if kind in ("group", "both"):
        group = Group.objects.create(name="Lecteurs des tâches")
        group.permissions.add(Permission.objects.get(content_type__app_label="jobs", codename="change_job"))
        user.groups.add(group)
    if kind == "none":
        user.groups.clear()

    ours = User.objects.get(pk=user.pk)
    djangos = User.objects.get(pk=user.pk)

    assert ModelBackend().get_all_permissions(ours) == backends.ModelBackend().get_all_permissions(djangos)
    assert ours.has_perm("jobs.view_job") == (kind in ("own", "both", "superuser"))
    assert ours.role_names == (
        frozenset()
        if kind == "none"
        else {Role.REVIEWER.label, *(["Lecteurs des tâches"] if kind in ("group", "both") else [])}
    )


def test_a_permission_taken_from_the_role_applies_at_the_next_request(client, program_staff):
    sign_in(client, program_staff)
    changelist = reverse("admin:applications_dossier_changelist")
    assert client.get(changelist).status_code == 200

    role = Group.objects.get(name=Role.PROGRAM_STAFF.label)
    role.permissions.remove(
        *Permission.objects.filter(content_type__app_label="applications", codename__endswith="_dossier")
    )

    assert client.get(changelist).status_code == 403
