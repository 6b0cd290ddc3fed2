import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import Role
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
