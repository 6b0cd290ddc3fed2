"""The review process in the admin. Reviewers see only "Mes évaluations": their own assignments,
never another reviewer's review, score, mean or any ordering derived from them."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.admin import NarrowedHistoryAdmin
from applications.downloads import private_download
from applications.models import Attachment

from . import services
from .forms import ConflictCheckForm, ReviewForm, UnlockForm
from .models import Assignment, Conflict, Criterion, Message, Review, ReviewerProfile, ReviewUnlock, Score


def is_staff_member(request) -> bool:
    return request.user.is_program_staff


@admin.register(Criterion)
class CriterionAdmin(NarrowedHistoryAdmin):
    list_display = ["name", "call", "weight", "scale_max", "allows_not_applicable", "eliminatory_below", "position"]
    list_filter = ["call"]
    list_select_related = ["call"]
    ordering = ["call", "position"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and services.criteria_frozen(obj.call):
            return [field.name for field in Criterion._meta.fields]
        return []

    def has_delete_permission(self, request, obj=None):
        if obj is not None and services.criteria_frozen(obj.call):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(ReviewerProfile)
class ReviewerProfileAdmin(NarrowedHistoryAdmin):
    list_display = ["user", "capacity", "home_region", "load"]
    search_fields = ["user__email", "user__last_name"]
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        # The load column in the same query as the rows, not one count per reviewer.
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(assignment_count=Count("user__assignments", distinct=True))
        )

    @admin.display(description="dossiers attribués")
    def load(self, profile):
        return profile.assignment_count


@admin.register(Conflict)
class ConflictAdmin(NarrowedHistoryAdmin):
    list_display = ["reviewer", "dossier", "source", "reason", "recorded_at"]
    list_filter = ["source", "dossier__call"]
    list_select_related = ["reviewer", "dossier__consortium"]
    search_fields = ["reviewer__email", "dossier__reference", "dossier__consortium__name"]
    autocomplete_fields = ["reviewer"]
    raw_id_fields = ["dossier"]
    fields = ["reviewer", "dossier", "source", "reason"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        conflict = services.record_conflict(
            obj.dossier,
            reviewer=obj.reviewer,
            source=obj.source or Conflict.Source.STAFF,
            reason=obj.reason,
            by=request.user,
        )
        obj.pk = conflict.pk


class ReviewStatusFilter(admin.SimpleListFilter):
    title = "état de l'évaluation"
    parameter_name = "etat"

    def lookups(self, request, model_admin):
        return [("todo", "À faire"), ("draft", "Brouillon"), ("submitted", "Remise")]

    def queryset(self, request, queryset):
        if self.value() == "todo":
            return queryset.filter(review__isnull=True)
        if self.value() in ("draft", "submitted"):
            return queryset.filter(review__status=self.value())
        return queryset


@admin.register(Assignment)
class AssignmentAdmin(NarrowedHistoryAdmin):
    search_fields = ["dossier__reference", "dossier__consortium__name"]
    autocomplete_fields = ["reviewer"]
    raw_id_fields = ["dossier"]
    fields = ["reviewer", "dossier", "due_at"]

    def get_queryset(self, request):
        queryset = (
            super().get_queryset(request).select_related("dossier__consortium", "dossier__call", "reviewer", "review")
        )
        if is_staff_member(request):
            return queryset
        return queryset.filter(pk__in=Assignment.objects.of_reviewer(request.user).values("pk"))

    def get_list_display(self, request):
        if is_staff_member(request):
            return ["dossier", "pole", "reviewer", "due_at", "review_status", "review_total", "evaluate_link"]
        return ["dossier", "pole", "due_at", "review_status", "evaluate_link"]

    def get_list_filter(self, request):
        if is_staff_member(request):
            return ["dossier__call", ReviewStatusFilter, "reviewer"]
        return [ReviewStatusFilter]

    def get_sortable_by(self, request):
        # Nothing a reviewer can sort by may derive from other reviewers' work.
        return ["dossier", "due_at"] if not is_staff_member(request) else self.get_list_display(request)

    def has_add_permission(self, request):
        return is_staff_member(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return is_staff_member(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_staff_member(request) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        try:
            assignment = services.assign_reviewer(
                obj.dossier, reviewer=obj.reviewer, by=request.user, due_at=obj.due_at
            )
        except ValidationError as refusal:
            raise PermissionDenied(refusal.messages[0]) from refusal
        obj.pk = assignment.pk

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if not is_staff_member(request):
            extra_context["title"] = "Mes évaluations"
        return super().changelist_view(request, extra_context)

    @admin.display(description="pôle")
    def pole(self, assignment):
        return assignment.dossier.consortium.name

    @admin.display(description="évaluation")
    def review_status(self, assignment):
        review = getattr(assignment, "review", None)
        return review.get_status_display() if review else "À faire"

    @admin.display(description="note pondérée")
    def review_total(self, assignment):
        return assignment.review.weighted_total if is_reviewed(assignment) else "—"

    @admin.display(description="")
    def evaluate_link(self, assignment):
        url = reverse("admin:reviews_assignment_evaluate", args=[assignment.pk])
        return format_html('<a href="{}">{}</a>', url, "Évaluer" if not is_reviewed(assignment) else "Voir")

    def get_urls(self):
        return [
            path(
                "<int:pk>/evaluer/", self.admin_site.admin_view(self.evaluate_view), name="reviews_assignment_evaluate"
            ),
            path("<int:pk>/pdf/", self.admin_site.admin_view(self.pdf_view), name="reviews_assignment_pdf"),
            path(
                "<int:pk>/pieces/<uuid:uuid>/",
                self.admin_site.admin_view(self.attachment_view),
                name="reviews_assignment_attachment",
            ),
            path(
                "<int:pk>/messages/<int:message_pk>/",
                self.admin_site.admin_view(self.message_attachment_view),
                name="reviews_assignment_message_attachment",
            ),
            *super().get_urls(),
        ]

    def assignment_for(self, request, pk) -> Assignment:
        """The reviewer's own assignment (404 otherwise, including under a conflict); staff see all."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request).select_related("dossier__current_submission"), pk=pk)

    def evaluate_view(self, request, pk):
        assignment = self.assignment_for(request, pk)
        dossier = assignment.dossier
        own = assignment.reviewer_id == request.user.pk
        context = {
            **self.admin_site.each_context(request),
            "assignment": assignment,
            "dossier": dossier,
            "opts": self.opts,
        }
        if own and assignment.no_conflict_confirmed_at is None:
            form = ConflictCheckForm(request.POST or None)
            if request.method == "POST" and form.is_valid():
                if form.cleaned_data["answer"] == "conflict":
                    services.record_conflict(
                        dossier,
                        reviewer=request.user,
                        source=Conflict.Source.DECLARED,
                        reason=form.cleaned_data["reason"],
                        by=request.user,
                    )
                    messages.success(request, "Conflit d'intérêts enregistré : le dossier vous est retiré.")
                    return redirect("admin:reviews_assignment_changelist")
                services.confirm_no_conflict(assignment, by=request.user)
                return redirect(request.path)
            return render(
                request,
                "admin/reviews/assignment/conflict_check.html",
                {**context, "form": form, "title": f"Avant d'ouvrir le dossier {dossier.reference}"},
            )
        criteria = list(dossier.call.criteria.all())
        review = getattr(assignment, "review", None)
        locked = is_reviewed(assignment)
        scores = {score.criterion_id: score for score in review.scores.all()} if review else {}
        initial = {
            "recommendation": review.recommendation if review else "",
            "overall_comment": review.overall_comment if review else "",
        }
        for criterion_id, score in scores.items():
            initial[f"score_{criterion_id}"] = (
                "na" if score.not_applicable else ("" if score.value is None else str(score.value))
            )
            initial[f"comment_{criterion_id}"] = score.comment
        form = ReviewForm(request.POST or None, initial=initial, criteria=criteria)
        if request.method == "POST":
            if not own:
                raise PermissionDenied("Seul l'évaluateur désigné peut noter ce dossier.")
            if form.is_valid():
                submit = "submit" in request.POST
                try:
                    services.save_review(
                        assignment,
                        scores=form.score_inputs(),
                        recommendation=form.cleaned_data["recommendation"],
                        overall_comment=form.cleaned_data["overall_comment"],
                        by=request.user,
                        submit=submit,
                        criteria=criteria,
                    )
                except services.ReviewLocked as refusal:
                    messages.error(request, str(refusal))
                    return redirect(request.path)
                except ValidationError as refusal:
                    for key, errors in refusal.message_dict.items():
                        field = "recommendation" if key == "recommendation" else f"score_{key}"
                        for error in errors:
                            form.add_error(field if field in form.fields else None, error)
                else:
                    messages.success(
                        request,
                        "Évaluation remise : elle est désormais verrouillée." if submit else "Brouillon enregistré.",
                    )
                    return redirect(request.path)
        return render(
            request,
            "admin/reviews/assignment/evaluate.html",
            {
                **context,
                "form": form,
                "locked": locked or not own,
                "review": review,
                "content": dossier.current_submission.content if dossier.current_submission else {},
                "submission": dossier.current_submission,
                "thread": list(dossier.messages.select_related("author")),
                "title": f"Évaluation du dossier {dossier.reference}",
            },
        )

    def confirmed_assignment(self, request, pk) -> Assignment:
        assignment = self.assignment_for(request, pk)
        if assignment.reviewer_id == request.user.pk and assignment.no_conflict_confirmed_at is None:
            raise PermissionDenied("Confirmez d'abord l'absence de conflit d'intérêts.")
        return assignment

    def pdf_view(self, request, pk):
        submission = self.confirmed_assignment(request, pk).dossier.current_submission
        if submission is None or not submission.pdf_rendered_at:
            raise Http404("Le PDF n'est pas encore disponible.")
        return private_download(submission.pdf, f"{submission.reference}.pdf", "application/pdf")

    def message_attachment_view(self, request, pk, message_pk):
        return _message_file(self.confirmed_assignment(request, pk), message_pk)

    def attachment_view(self, request, pk, uuid):
        assignment = self.confirmed_assignment(request, pk)
        submission = assignment.dossier.current_submission
        submitted = {item.get("uuid") for item in (submission.content.get("attachments", []) if submission else [])}
        if str(uuid) not in submitted:
            raise Http404
        attachment = get_object_or_404(Attachment, dossier=assignment.dossier, uuid=uuid)
        return private_download(attachment.file, attachment.original_name, attachment.content_type)


def _message_file(assignment, message_pk):
    message = get_object_or_404(Message, pk=message_pk, dossier=assignment.dossier)
    if not message.attachment:
        raise Http404
    return private_download(message.attachment, message.attachment_name)


def is_reviewed(assignment) -> bool:
    review = getattr(assignment, "review", None)
    return review is not None and review.status == Review.Status.SUBMITTED


class ScoreInline(admin.TabularInline):
    model = Score
    extra = 0
    can_delete = False
    fields = ["criterion", "value", "not_applicable", "comment"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Review)
class ReviewAdmin(NarrowedHistoryAdmin):
    """Staff only (reviewers have no permission on this model): all reviews, scores and unlocking."""

    list_display = ["assignment", "status", "weighted_total", "recommendation", "submitted_at"]
    list_filter = ["status", "recommendation", "assignment__dossier__call"]
    list_select_related = ["assignment__dossier__consortium", "assignment__reviewer"]
    # What the columns read (the assignment's name is its dossier's and its reviewer's), not the comments.
    list_loaded_fields = [
        "assignment",
        "status",
        "weighted_total",
        "recommendation",
        "submitted_at",
        "assignment__dossier",
        "assignment__dossier__reference",
        "assignment__dossier__consortium",
        "assignment__dossier__consortium__name",
        "assignment__reviewer",
        "assignment__reviewer__first_name",
        "assignment__reviewer__last_name",
        "assignment__reviewer__email",
    ]
    search_fields = ["assignment__dossier__reference", "assignment__reviewer__email"]
    readonly_fields = ["assignment", "status", "recommendation", "overall_comment", "weighted_total", "submitted_at"]
    inlines = [ScoreInline]
    actions = ["unlock"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if is_staff_member(request) else queryset.none()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Déverrouiller les évaluations sélectionnées (avec motif)", permissions=["view"])
    def unlock(self, request, queryset):
        if not is_staff_member(request):
            raise PermissionDenied
        form = UnlockForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for review in queryset:
                services.unlock_review(review, reason=form.cleaned_data["reason"], by=request.user)
            self.message_user(request, f"{queryset.count()} évaluation(s) déverrouillée(s).", messages.SUCCESS)
            return None
        return render(
            request,
            "admin/reviews/review/unlock.html",
            {**self.admin_site.each_context(request), "form": form, "reviews": queryset, "title": "Déverrouiller"},
        )


@admin.register(ReviewUnlock)
class ReviewUnlockAdmin(admin.ModelAdmin):
    list_display = ["review", "by", "at", "reason"]
    list_select_related = ["review__assignment__dossier", "by"]
    readonly_fields = ["review", "by", "at", "reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if is_staff_member(request) else queryset.none()
