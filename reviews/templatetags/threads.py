from django import template

from reviews.messages import unread_count

register = template.Library()


@register.inclusion_tag("reviews/_thread_link.html", takes_context=True)
def thread_link(context, dossier):
    """A link to the dossier's clarification thread with its unread count (submitted dossiers)."""
    user = context["request"].user
    if dossier.current_submission_id is None:
        return {"show": False}
    return {"show": True, "dossier": dossier, "unread": unread_count(dossier, user)}
