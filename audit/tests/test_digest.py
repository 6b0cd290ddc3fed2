import datetime as dt

import pytest
from django.urls import reverse

from applications.tests.factories import CallFactory
from audit.models import AuditDigest, ChainLink
from audit.tasks import record_digest_task
from conftest import sign_in


@pytest.mark.django_db(transaction=True)
def test_the_digest_task_records_the_head_once_a_day():
    CallFactory(attachment_types=False)
    head = ChainLink.objects.order_by("-sequence").first()

    record_digest_task()
    CallFactory(attachment_types=False)
    record_digest_task()

    assert list(AuditDigest.objects.values_list("last_sequence", "head_hash")) == [(head.sequence, head.entry_hash)]


@pytest.fixture
def digest(db):
    return AuditDigest.objects.create(date=dt.date(2026, 11, 24), last_sequence=12, head_hash="a" * 64)


def test_program_staff_read_the_digests_in_the_admin(client, program_staff, digest):
    sign_in(client, program_staff)

    listing = client.get(reverse("admin:audit_auditdigest_changelist"))
    detail = client.get(reverse("admin:audit_auditdigest_change", args=[digest.pk]))
    edit = client.post(reverse("admin:audit_auditdigest_change", args=[digest.pk]), {"last_sequence": 1})

    assert (listing.status_code, detail.status_code, edit.status_code) == (200, 200, 403)
    assert listing.context["cl"].result_count == 1
    assert detail.context["has_change_permission"] is False


def test_nobody_adds_or_deletes_a_digest_in_the_admin(client, admin_user, digest):
    admin_client = sign_in(client, admin_user)

    add = admin_client.get(reverse("admin:audit_auditdigest_add"))
    delete = admin_client.post(reverse("admin:audit_auditdigest_delete", args=[digest.pk]), {"post": "yes"})

    assert (add.status_code, delete.status_code) == (403, 403)
    assert AuditDigest.objects.count() == 1


def test_reviewers_do_not_see_the_digests(client, reviewer, digest):
    sign_in(client, reviewer)

    assert client.get(reverse("admin:audit_auditdigest_changelist")).status_code == 403
