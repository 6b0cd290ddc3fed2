"""`{% result_list cl %}` for the changelists of NarrowedHistoryAdmin: Django's tag and template,
with the rows written by accounts.admin_rows."""

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from accounts import admin_rows

register = template.Library()


@register.tag(name="result_list")
def result_list_tag(parser, token):
    return InclusionAdminNode(
        parser, token, func=admin_rows.result_list, template_name="change_list_results.html", takes_context=False
    )
