"""Liveness of what the portal needs: the database, Redis and at least one Celery worker.

Anyone may ask (load balancers, uptime probes): the answer names what is down, but the reason
(driver messages with host names, ports, user names) goes to the log, and to staff only.
"""

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app as celery_app

logger = logging.getLogger(__name__)


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure means "down", with its reason
        return str(error).strip() or error.__class__.__name__
    return None


def check_redis() -> str | None:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except Exception as error:  # noqa: BLE001
        return str(error).strip() or error.__class__.__name__
    return None


def check_celery() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=1)
            replies = celery_app.control.ping(timeout=1.0, connection=conn)
    except Exception as error:  # noqa: BLE001
        return str(error).strip() or error.__class__.__name__
    if not replies:
        return "aucun worker Celery n'a répondu"
    return None


def background_status() -> dict:
    """Beat's last sign of life and the outbox backlog (informative: they do not fail /health/)."""
    from django.utils import timezone

    from jobs.models import Heartbeat, Job

    try:
        beat = Heartbeat.objects.filter(name="beat").values_list("at", flat=True).first()
        pending = Job.objects.pending().count()
        failed = Job.objects.filter(status=Job.Status.FAILED).count()
    except Exception:  # noqa: BLE001 - the database check already reports the cause
        return {}
    return {
        "beat_last_run": beat.isoformat() if beat else None,
        "beat_late": beat is None or (timezone.now() - beat).total_seconds() > 180,
        "outbox_pending": pending,
        "outbox_failed": failed,
    }


@never_cache
@require_GET
def health(request):
    checks = {"database": check_database(), "redis": check_redis()}
    # Pinging workers goes through the broker: pointless (and slow) when Redis is down.
    checks["celery"] = check_celery() if checks["redis"] is None else "Redis indisponible"
    down = sorted(name for name, error in checks.items() if error)
    for name in down:
        logger.warning("health: %s down: %s", name, checks[name])
    shown = checks if request.user.is_staff else {name: error and "indisponible" for name, error in checks.items()}
    body = {
        "status": "ok" if not down else "error",
        "down": down,
        "components": {name: {"ok": error is None, "error": error} for name, error in shown.items()},
        "background": background_status() if checks["database"] is None else {},
    }
    return JsonResponse(body, status=200 if not down else 503)
