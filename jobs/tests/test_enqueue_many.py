"""enqueue_many(): many keyed jobs in one statement, each recorded once, sent after commit."""

import contextlib

import redis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from applications import services
from applications.tests.factories import complete_dossier
from jobs.models import Job
from jobs.services import enqueue, enqueue_many


def test_many_jobs_are_recorded_once_and_sent_after_commit(db, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr("jobs.services.app.send_task", lambda name, kwargs, **options: sent.append((name, kwargs)))
    with django_capture_on_commit_callbacks(execute=True):
        existing = enqueue("tests.task", key="k1", n=1)
    sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ids = enqueue_many([("tests.task", "k1", {"n": 1}), ("tests.task", "k2", {"n": 2}), ("tests.other", "k3", {})])

    assert len(ids) == 2
    assert existing.pk not in ids
    assert sorted(Job.objects.values_list("key", "task_name")) == [
        ("k1", "tests.task"),
        ("k2", "tests.task"),
        ("k3", "tests.other"),
    ]
    assert Job.objects.get(key="k2").kwargs == {"n": 2}
    assert sorted(sent, key=lambda item: item[0]) == [
        ("tests.other", {"job_id": Job.objects.get(key="k3").pk}),
        ("tests.task", {"n": 2, "job_id": Job.objects.get(key="k2").pk}),
    ]
    assert set(Job.objects.filter(pk__in=ids).values_list("dispatch_count", flat=True)) == {1}


def test_nothing_is_sent_before_commit(db, monkeypatch):
    sent = []
    monkeypatch.setattr("jobs.services.app.send_task", lambda name, kwargs, **options: sent.append(name))

    enqueue_many([("tests.task", "k1", {})])

    assert sent == []
    assert Job.objects.get(key="k1").status == Job.Status.PENDING


@contextlib.contextmanager
def serving():
    """The start and the end of a request as a WSGI server signals them, without Django's closing
    of the connection (the test's transaction lives on it), as the test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        request_started.send(sender=None, environ={})
        yield
        request_finished.send(sender=None)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_during_a_request_jobs_are_sent_once_the_response_is_handed_over(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    """Django signals the start of a request, then its end when the server closes the response
    (after its last byte): committed jobs wait for that end, so the user does not wait for Redis."""
    sent = []
    monkeypatch.setattr("jobs.services.app.send_task", lambda name, kwargs, **options: sent.append(name))

    with serving():
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_many([("tests.task", "k1", {})])
            enqueue("tests.other", key="k2")
        assert sent == []
        assert Job.objects.filter(dispatched_at__isnull=True).count() == 2
    assert sorted(sent) == ["tests.other", "tests.task"]
    assert Job.objects.filter(dispatched_at__isnull=True).count() == 0

    # Outside a request (a task, a command), at commit.
    with django_capture_on_commit_callbacks(execute=True):
        enqueue("tests.third", key="k3")
    assert sent[-1] == "tests.third"


def test_a_broken_send_after_the_response_leaves_the_job_to_the_sweep(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(name, kwargs, **options):
        raise ConnectionError("Redis est injoignable")

    monkeypatch.setattr("jobs.services.app.send_task", broker_down)
    with serving(), django_capture_on_commit_callbacks(execute=True):
        enqueue_many([("tests.task", "k1", {})])

    job = Job.objects.get(key="k1")
    assert (job.status, job.dispatched_at) == (Job.Status.PENDING, None)
    assert "injoignable" in job.last_error


def test_sending_jobs_does_not_subscribe_to_their_results(db, media, django_capture_on_commit_callbacks):
    """A submission's jobs go to the real broker without the sending process subscribing to their
    result channels in Redis (the job rows are the results): a subscription, then an unsubscription
    when the result object is collected, for each job, from every web process."""
    dossier = complete_dossier()
    server = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    def subscriptions() -> int:
        return server.info("commandstats").get("cmdstat_subscribe", {}).get("calls", 0)

    before = subscriptions()
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_dossier(dossier, by=dossier.consortium.created_by)

    assert sorted(Job.objects.values_list("task_name", "dispatch_count")) == [
        ("applications.tasks.render_submission_pdf_task", 1),
        ("applications.tasks.send_submission_receipts_task", 1),
    ]
    assert subscriptions() == before
