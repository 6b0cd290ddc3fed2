"""Placeholder while this module is written; replaced in the same change."""

from django.http import Http404


def consortium_create(request, *args, **kwargs):
    raise Http404


def consortium_detail(request, *args, **kwargs):
    raise Http404


def consortium_update(request, *args, **kwargs):
    raise Http404


def organisation_create(request, *args, **kwargs):
    raise Http404


def organisation_update(request, *args, **kwargs):
    raise Http404


def organisation_delete(request, *args, **kwargs):
    raise Http404


def team(request, *args, **kwargs):
    raise Http404


def invitation_revoke(request, *args, **kwargs):
    raise Http404


def invitation_accept(request, *args, **kwargs):
    raise Http404
