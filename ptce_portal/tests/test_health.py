import pytest
from django.urls import reverse

from ptce_portal.celery import app as celery_app


@pytest.mark.worker
def test_health_is_ok_when_everything_is_up(client, celery_worker):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["down"] == []


def test_health_names_celery_when_no_worker_answers(client, db):
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["down"] == ["celery"]


def test_health_names_redis_when_broker_address_is_wrong(client, db, settings, monkeypatch):
    wrong = "redis://127.0.0.1:1/0"
    settings.REDIS_URL = wrong
    monkeypatch.setattr(celery_app.conf, "broker_url", wrong)

    response = client.get(reverse("health"))

    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["celery", "redis"]
    assert body["components"]["database"]["ok"] is True


def test_health_reports_beat_and_outbox_backlog(client, db):
    from django.utils import timezone

    from jobs.models import Heartbeat, Job

    Heartbeat.objects.create(name="beat", at=timezone.now())
    Job.objects.create(task_name="applications.tasks.render_submission_pdf_task", kwargs={"submission_id": 1})

    background = client.get(reverse("health")).json()["background"]

    assert background["outbox_pending"] == 1
    assert background["outbox_failed"] == 0
    assert background["beat_late"] is False


def test_health_keeps_the_reasons_for_the_log_and_for_staff(client, db, settings, monkeypatch, caplog):
    from accounts.tests.factories import UserFactory
    from conftest import sign_in

    wrong = "redis://127.0.0.1:1/0"
    settings.REDIS_URL = wrong
    monkeypatch.setattr(celery_app.conf, "broker_url", wrong)

    anonymous = client.get(reverse("health")).json()["components"]
    assert anonymous["redis"] == {"ok": False, "error": "indisponible"}
    assert anonymous["database"] == {"ok": True, "error": None}
    assert "127.0.0.1" in caplog.text  # the driver's message, with the address, is logged

    sign_in(client, UserFactory(is_staff=True))
    staff = client.get(reverse("health")).json()["components"]
    assert staff["redis"]["ok"] is False
    assert staff["redis"]["error"] not in (None, "indisponible")
