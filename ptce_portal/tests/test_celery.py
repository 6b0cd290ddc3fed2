import pytest
from django.conf import settings

from ptce_portal.celery import app as celery_app
from ptce_portal.celery import echo


def test_celery_reads_its_configuration_from_settings():
    assert celery_app.conf.broker_url == settings.REDIS_URL
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.task_serializer == "json"
    assert celery_app.conf.timezone == "Europe/Paris"


@pytest.mark.worker
def test_real_worker_executes_a_task_through_the_broker(celery_worker):
    result = echo.delay("bonjour")
    assert result.get(timeout=20) == "bonjour"
