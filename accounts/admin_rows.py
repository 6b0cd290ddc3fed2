"""The rows of a changelist page, written as Django admin writes them but at a fraction of its cost.

Django's `items_for_result` works out every cell from scratch: it looks the column up again (an
exception for each column that is not a model field), rebuilds its CSS classes, merges the
preserved filters into every row's link (a URL parse and a resolve() per row) and formats each
cell through `format_html`; the template then renders each cell on its own. On a 50-row page of
dossiers that is half the page's time. Here each column is worked out once per page, each row is
one string, and the markup is the same byte for byte (`accounts/tests/test_admin_rows.py` compares
the two on every changelist of the portal).

Two kinds of cells cost more than the rest and are written from what the page works out once:
dates, datetimes and times (`accounts.admin_dates`: the language's format split once, Django's own
`DateFormat` methods for its characters), and the action checkbox, whose widget Django renders
through the form templates for every row (NarrowedHistoryAdmin's own version still translates its
label and escapes twice per row): here the model admin's function is called once per page, for
placeholders in place of the row's id and name, and each row fills them in. Only the two functions
known to depend on nothing else are trusted so (Django's and NarrowedHistoryAdmin's); another one is
called for every row.

Editable lists (`list_editable`) and popups keep Django's own rows.
"""

from __future__ import annotations

import contextlib
import datetime
import html
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.contrib.admin import ModelAdmin
from django.contrib.admin.templatetags.admin_list import ResultList, _coerce_field_name, result_headers
from django.contrib.admin.templatetags.admin_list import result_list as django_result_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .admin import NarrowedHistoryAdmin
from .admin_dates import DateCells

_MISSING = object()
# Stand-ins for a row's id and name in the checkbox rendered once per page: characters that neither
# escaping nor a translation of its label would produce.
_PK, _NAME = "\ue000", "\ue001"
# The `action_checkbox` functions whose markup depends only on the row's str() and pk, both escaped:
# Django's, and NarrowedHistoryAdmin's (the same markup without the form widget).
_KNOWN_CHECKBOXES = (ModelAdmin.action_checkbox, NarrowedHistoryAdmin.action_checkbox)


def _escaped(value) -> str:
    """`conditional_escape` without its lazy-string wrapper (a fifth of a cell's time): safe
    markup as it is, anything else through the same `html.escape` Django's `escape` calls."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


@dataclass
class Column:
    """One column of the list, as `items_for_result` works it out for every cell."""

    name: Any  # a field name, an attribute or method name, or a callable
    classes: str  # "field-<name>", or "action-checkbox"
    link: bool
    empty: Any  # what an empty value shows
    field: models.Field | None = None
    value_of: Callable[[Any], Any] | None = None  # the cell's raw value, when it is not a field
    boolean: bool = False
    nowrap: bool = False  # fields of these types always get the class, whatever their value
    header: bool = False  # the first linked column is written as a <th>
    choices: dict | None = None  # a field's choices, looked up as display_for_field does (hashable ones)
    # A DateField or TimeField without choices: whether display_for_field moves its values to local
    # time (DateTimeField) or not. None for other fields.
    localtime: bool | None = None
    checkbox: str | None = None  # the action checkbox's markup, the row's id and name as {0} and {1}

    def cell(self, obj, writer: RowWriter) -> str:
        try:
            if self.checkbox is not None:
                return self._checkbox(obj, writer)
            value = self.value_of(obj) if self.field is None else getattr(obj, self.name)
        except ObjectDoesNotExist:
            return self._wrap(self.classes, self.empty, obj, writer)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        classes = self.classes
        if self.field is None:
            shown = None
            if isinstance(value, (datetime.date, datetime.time)):
                classes += " nowrap"
                if not self.boolean:
                    shown = writer.dates.localize(value)
            if shown is None:
                shown = display_for_value(value, self.empty, self.boolean)
        else:
            if isinstance(self.field.remote_field, models.ManyToOneRel):
                shown = self.empty if value is None else value
            elif self.choices is not None:
                shown = self.choices.get(value, self.empty)
            else:
                shown = None
                if self.localtime is not None and value not in self.field.empty_values:
                    shown = writer.dates.localize(value, localtime=self.localtime)
                if shown is None:
                    shown = display_for_field(value, self.field, self.empty, avoid_link=self.link)
            if self.nowrap:
                classes += " nowrap"
        return self._wrap(classes, shown, obj, writer)

    def _checkbox(self, obj, writer: RowWriter) -> str:
        # In action_checkbox's order: the name for the label, then the id as the value.
        name = str(obj)
        pk = str(obj.pk)
        if pk == "" or hasattr(name, "__html__") or hasattr(pk, "__html__"):
            # Where the two known functions part ways (CheckboxInput leaves an empty value out,
            # format_html keeps safe markup as it is, escape() does not): the function itself.
            return self._wrap(self.classes, self.value_of(obj), obj, writer)
        return f'<td class="{self.classes}">{self.checkbox.format(html.escape(pk), html.escape(name))}</td>'

    def _wrap(self, classes: str, shown, obj, writer: RowWriter) -> str:
        if not self.link:
            return f'<td class="{classes}">{_escaped(shown)}</td>'
        tag = "th" if self.header else "td"
        return f'<{tag} class="{classes}"><a href="{writer.change_url(obj)}">{_escaped(shown)}</a></{tag}>'


class RowWriter:
    """The rows of one changelist page, each as one safe string."""

    def __init__(self, cl):
        self.cl = cl
        self.columns = []
        first = True  # as in items_for_result: the first linked column is a <th>, and takes "first"
        for index, name in enumerate(cl.list_display):
            column = self._column(cl.model_admin, name, index, link=self._links(name, first))
            column.header = column.link and first
            first = first and not column.link
            self.columns.append(column)

    def _links(self, name, first: bool) -> bool:
        links = self.cl.list_display_links
        if links is None:
            return False
        if first and not links:
            return True
        return name in links

    def _column(self, admin, name, index: int, *, link: bool) -> Column:
        column = Column(
            name=name,
            classes=f"field-{_coerce_field_name(name, index)}",
            link=link,
            empty=admin.get_empty_value_display(),
        )
        try:
            field = _get_non_gfk_field(self.cl.lookup_opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            field = None
        if field is not None and not field.auto_created:
            column.field = field
            column.nowrap = isinstance(field, (models.DateField, models.TimeField, models.ForeignKey))
            if field.flatchoices:
                # display_for_field builds this dict for every cell; list-like choices stay with it.
                with contextlib.suppress(TypeError):
                    column.choices = dict(field.flatchoices)
            elif isinstance(field, (models.DateField, models.TimeField)):
                column.localtime = isinstance(field, models.DateTimeField)
            return column
        if name == "action_checkbox":
            column.classes = "action-checkbox"
        attr, column.value_of = self._reader(admin, name)
        column.empty = getattr(attr, "empty_value_display", column.empty)
        column.boolean = getattr(attr, "boolean", False)
        if isinstance(attr, property) and hasattr(attr, "fget"):
            column.boolean = getattr(attr.fget, "boolean", False)
        if (
            name == "action_checkbox"
            and not (link or column.boolean)
            and getattr(attr, "__func__", None) in _KNOWN_CHECKBOXES
        ):
            column.checkbox = self._checkbox_format(attr)
        return column

    @staticmethod
    def _checkbox_format(action_checkbox) -> str | None:
        """Django's checkbox markup, rendered once for a stand-in row, as a format string."""

        class Row:
            pk = _PK

            def __str__(self):
                return _NAME

        markup = str(action_checkbox(Row()))
        if markup.count(_PK) != 1 or markup.count(_NAME) != 1:
            return None
        return markup.replace("{", "{{").replace("}", "}}").replace(_PK, "{0}").replace(_NAME, "{1}")

    @staticmethod
    def _reader(admin, name) -> tuple[Any, Callable[[Any], Any]]:
        """What `lookup_field` returns as `attr` (read once) and how it gets a row's value."""
        if callable(name):
            return name, name
        if hasattr(admin, name) and name != "__str__":
            method = getattr(admin, name)
            return method, method
        model_attr = getattr(admin.model, name, None) if hasattr(admin.model, name) else None

        def value_of(obj, _name=name):
            attr = getattr(obj, _name, _MISSING)
            if attr is _MISSING:  # a "related__field" path, or nothing: Django's own walk
                return lookup_field(_name, obj, admin)[2]
            return attr() if callable(attr) else attr

        return model_attr, value_of

    @cached_property
    def dates(self) -> DateCells:
        return DateCells()

    @cached_property
    def _url_parts(self) -> tuple[str, str]:
        """The change link around the row's id, the list's filters preserved, escaped."""
        prefix, suffix = self.cl._change_url_parts
        sample = add_preserved_filters(
            {"preserved_filters": self.cl.preserved_filters, "opts": self.cl.opts}, f"{prefix}0{suffix}"
        )
        assert sample.startswith(f"{prefix}0/")
        return escape(prefix), escape(sample[len(prefix) + 1 :])

    def change_url(self, obj) -> str:
        """The row's change link with the list's filters preserved, escaped as `format_html` does."""
        prefix, suffix = self._url_parts
        pk = obj.pk
        if not isinstance(pk, int):
            return escape(
                add_preserved_filters(
                    {"preserved_filters": self.cl.preserved_filters, "opts": self.cl.opts}, self.cl.url_for_result(obj)
                )
            )
        return f"{prefix}{pk}{suffix}"

    def rows(self):
        for obj in self.cl.result_list:
            yield mark_safe("".join(column.cell(obj, self) for column in self.columns))


def result_list(cl) -> dict:
    """The context of `change_list_results.html`: Django's, with each row's cells as one string."""
    if cl.formset or cl.is_popup or cl.to_field or not hasattr(cl, "_change_url_parts"):
        return django_result_list(cl)
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": [ResultList(None, [row]) for row in RowWriter(cl).rows()],
    }
