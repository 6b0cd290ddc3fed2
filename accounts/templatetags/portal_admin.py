"""The portal's admin tags: `{% result_list cl %}` for the changelists of NarrowedHistoryAdmin
(Django's tag and template, with the rows written by accounts.admin_rows), and `{% nav_sidebar %}`,
Django's sidebar as kept by accounts.admin_site."""

from django import template
from django.contrib import admin
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.utils.safestring import mark_safe

from accounts import admin_rows

register = template.Library()


@register.tag(name="result_list")
def result_list_tag(parser, token):
    return InclusionAdminNode(
        parser, token, func=admin_rows.result_list, template_name="change_list_results.html", takes_context=False
    )


@register.simple_tag(takes_context=True)
def nav_sidebar(context) -> str:
    return mark_safe(admin.site.nav_sidebar(context["request"], context.get("available_apps") or []))
