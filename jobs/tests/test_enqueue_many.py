"""enqueue_many(): many keyed jobs in one statement, each recorded once, sent after commit."""

from jobs.models import Job
from jobs.services import enqueue, enqueue_many


def test_many_jobs_are_recorded_once_and_sent_after_commit(db, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr("jobs.services.app.send_task", lambda name, kwargs: sent.append((name, kwargs)))
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
    monkeypatch.setattr("jobs.services.app.send_task", lambda name, kwargs: sent.append(name))

    enqueue_many([("tests.task", "k1", {})])

    assert sent == []
    assert Job.objects.get(key="k1").status == Job.Status.PENDING
