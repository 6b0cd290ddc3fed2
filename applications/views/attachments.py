"""Placeholder while this module is written; replaced in the same change."""

from django.http import Http404


def attachment_list(request, *args, **kwargs):
    raise Http404


def attachment_download(request, *args, **kwargs):
    raise Http404


def attachment_remove(request, *args, **kwargs):
    raise Http404
