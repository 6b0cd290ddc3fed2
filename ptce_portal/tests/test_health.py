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
