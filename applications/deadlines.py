"""Bookkeeping after deadlines: closing calls and reminding teams before them.

Whether a submission is on time is never decided here (see services.submit_dossier): beat
may run late, twice, or not at all around clock changes. These functions only record what
the deadline already decided, and are safe to run any number of times.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from jobs.services import enqueue, enqueue_many

from . import clock
from .models import Call, Dossier, DossierEvent, Reminder


def close_due_calls(*, at: dt.datetime | None = None) -> list[int]:
    """Close every call whose deadline has passed and expire the drafts whose own deadline
    has passed too. Returns the ids of the calls closed by this run."""
    moment = at or clock.now()
    closed = [
        call_id
        for call_id in Call.objects.filter(closes_at__lte=moment, closed_at__isnull=True).values_list("pk", flat=True)
        if close_call(call_id, at=moment)
    ]
    expire_drafts(at=moment)
    return closed


def close_call(call_id: int, *, at: dt.datetime) -> bool:
    """Record the closing of one call, once: the row lock makes a concurrent run wait and
    then find `closed_at` already set. The staff summary is queued with a unique key.

    Drafts are expired after this transaction, not inside it: a submission locks its dossier
    and then the call (for its number), so holding the call while waiting for dossiers could
    deadlock with a submission made in the last millisecond.
    """
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pk=call_id, closed_at__isnull=True, closes_at__lte=at).first()
        if call is None:
            return False
        call.closed_at = at
        call.save(update_fields=["closed_at"])
        enqueue("applications.tasks.send_closing_summary_task", key=f"closing-summary:{call.pk}", call_id=call.pk)
    expire_drafts(at=at, call_id=call_id)
    return True


# One statement whatever the number of drafts: the status change and its trace rows together,
# so a submission committing meanwhile is neither expired nor traced as such.
EXPIRE_SQL = """
WITH expired AS (
    UPDATE applications_dossier d SET status = %(expired)s, updated_at = %(at)s
    FROM applications_call c
    WHERE c.id = d.call_id AND d.status = %(draft)s AND c.closed_at IS NOT NULL {call_filter}
      AND GREATEST(d.deadline_override, c.closes_at) <= %(at)s
    RETURNING d.id
)
INSERT INTO applications_dossierevent (dossier_id, kind, at, by_id, from_status, to_status, reason, data)
SELECT id, %(kind)s, %(at)s, NULL, %(draft)s, %(expired)s, %(reason)s, '{{}}'::jsonb FROM expired
"""


def expire_drafts(*, at: dt.datetime, call_id: int | None = None) -> int:
    """Drafts of closed calls whose deadline (their own extension included) has passed become
    `expired`, in one set-based statement with one trace row each. Returns how many."""
    params = {
        "kind": DossierEvent.Kind.STATUS,
        "at": at,
        "draft": Dossier.Status.DRAFT,
        "expired": Dossier.Status.EXPIRED,
        "reason": "Date limite passée sans dépôt",
        "call_id": call_id,
    }
    call_filter = "AND c.id = %(call_id)s" if call_id is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(EXPIRE_SQL.format(call_filter=call_filter), params)
        return cursor.rowcount


@dataclass(frozen=True)
class ReminderKind:
    code: str
    before: dt.timedelta  # how long before the deadline it is due
    window: dt.timedelta  # how late it may still go out; past that it is skipped
    label: str


REMINDERS = [
    ReminderKind("d7", dt.timedelta(days=7), dt.timedelta(days=1), "dans 7 jours"),
    ReminderKind("d1", dt.timedelta(days=1), dt.timedelta(hours=6), "demain"),
    ReminderKind("h3", dt.timedelta(hours=3), dt.timedelta(hours=1), "dans 3 heures"),
]
REMINDERS_BY_CODE = {kind.code: kind for kind in REMINDERS}

RECORD_REMINDERS_SQL = """
INSERT INTO applications_reminder (dossier_id, kind, recorded_at)
SELECT d.id, %(kind)s, %(at)s
FROM applications_dossier d JOIN applications_call c ON c.id = d.call_id
WHERE d.status = %(draft)s AND c.closed_at IS NULL
  AND c.closes_at - %(before)s <= %(at)s AND %(at)s < c.closes_at - %(before)s + %(window)s
  AND (d.deadline_override IS NULL OR d.deadline_override <= c.closes_at)
ON CONFLICT (dossier_id, kind) DO NOTHING
RETURNING dossier_id
"""


def send_due_reminders(*, at: dt.datetime | None = None) -> int:
    """Queue the D-7, D-1 and H-3 reminders that are due now for drafts.

    A reminder is recorded once per dossier and kind (unique row, ON CONFLICT DO NOTHING),
    so beat running late or twice sends it once; once its window has passed it is skipped.
    Dossiers with their own later deadline are not reminded of the call's.
    """
    moment = at or clock.now()
    jobs = []
    with transaction.atomic():
        for kind in REMINDERS:
            with connection.cursor() as cursor:
                cursor.execute(
                    RECORD_REMINDERS_SQL,
                    {
                        "kind": kind.code,
                        "at": moment,
                        "draft": Dossier.Status.DRAFT,
                        "before": kind.before,
                        "window": kind.window,
                    },
                )
                jobs += [
                    (
                        "applications.tasks.send_reminder_task",
                        f"reminder:{dossier_id}:{kind.code}",
                        {"dossier_id": dossier_id, "kind": kind.code},
                    )
                    for (dossier_id,) in cursor.fetchall()
                ]
        # One insert for all the reminders' jobs, whatever the number of drafts.
        enqueue_many(jobs)
    return len(jobs)


def send_closing_summary(call_id: int) -> int:
    """E-mail program staff the counts of a closed call, once (recorded on the call)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from accounts.roles import Role

    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pk=call_id, closed_at__isnull=False).first()
        if call is None or call.closing_summary_sent_at is not None:
            return 0
        counts = dict(call.dossiers.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        recipients = list(
            get_user_model()
            .objects.filter(is_active=True, groups__name=Role.PROGRAM_STAFF.label)
            .values_list("email", flat=True)
            .distinct()
        )
        context = {
            "call": call,
            "submitted": sum(counts.get(status, 0) for status in SUBMITTED_STATUSES),
            "expired": counts.get(Dossier.Status.EXPIRED, 0),
            "withdrawn": counts.get(Dossier.Status.WITHDRAWN, 0),
            "drafts_with_extension": counts.get(Dossier.Status.DRAFT, 0),
        }
        if recipients:
            send_mail(
                render_to_string("emails/closing_summary_subject.txt", context).strip(),
                render_to_string("emails/closing_summary_body.txt", context),
                None,
                recipients,
            )
        call.closing_summary_sent_at = timezone.now()
        call.save(update_fields=["closing_summary_sent_at"])
    return len(recipients)


SUBMITTED_STATUSES = (
    Dossier.Status.SUBMITTED,
    Dossier.Status.UNDER_REVIEW,
    Dossier.Status.LAUREATE,
    Dossier.Status.NOT_SELECTED,
)


def send_reminder(dossier_id: int, kind: str) -> int:
    """E-mail the team of a draft its deadline reminder, once (recorded on the reminder row).
    A dossier submitted or withdrawn since the reminder was queued gets nothing."""
    from .services import missing_items

    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(of=("self",))
            .select_related("dossier__call", "dossier__consortium")
            .filter(dossier_id=dossier_id, kind=kind, sent_at__isnull=True)
            .first()
        )
        if reminder is None:
            return 0
        dossier = reminder.dossier
        recipients = []
        if dossier.status == Dossier.Status.DRAFT:
            recipients = list(dossier.consortium.memberships.values_list("user__email", flat=True))
            context = {
                "dossier": dossier,
                "when": REMINDERS_BY_CODE[kind].label,
                "deadline": timezone.localtime(dossier.call.closes_at),
                "missing": missing_items(dossier),
                "url": settings.SITE_URL + dossier.get_absolute_url(),
            }
            send_mail(
                render_to_string("emails/reminder_subject.txt", context).strip(),
                render_to_string("emails/reminder_body.txt", context),
                None,
                recipients,
            )
        reminder.sent_at = timezone.now()
        reminder.save(update_fields=["sent_at"])
    return len(recipients)
