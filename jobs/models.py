from django.db import models
from django.db.models import Q


class JobQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=Job.Status.PENDING)


class Job(models.Model):
    """One piece of background work, written in the same transaction as the change that needs it.

    The database is the source of truth: Redis may lose every message and a sweep sends
    again whatever is still pending. Tasks are idempotent, so a duplicate costs nothing.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        DONE = "done", "Terminé"
        FAILED = "failed", "En échec"

    task_name = models.CharField("tâche", max_length=200)
    kwargs = models.JSONField("paramètres", default=dict)
    key = models.CharField(
        "clé d'unicité",
        max_length=200,
        null=True,
        blank=True,
        unique=True,
        help_text="Un même travail (même clé) n'est enregistré qu'une fois.",
    )
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    dispatched_at = models.DateTimeField("dernier envoi au worker", null=True, blank=True)
    dispatch_count = models.PositiveIntegerField("envois au worker", default=0)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    last_error = models.TextField("dernière erreur", blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = "travail en arrière-plan"
        verbose_name_plural = "travaux en arrière-plan"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["dispatched_at"], condition=Q(status="pending"), name="job_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"


class Heartbeat(models.Model):
    """The last time a periodic process showed it was alive (e.g. Celery beat)."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = "signe de vie"
        verbose_name_plural = "signes de vie"

    def __str__(self) -> str:
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"
