"""Placeholder while this module is written; replaced in the same change."""

from django.http import Http404


def home(request, *args, **kwargs):
    raise Http404


def call_detail(request, *args, **kwargs):
    raise Http404


def dashboard(request, *args, **kwargs):
    raise Http404


def dossier_start(request, *args, **kwargs):
    raise Http404


def dossier_overview(request, *args, **kwargs):
    raise Http404


def dossier_section(request, *args, **kwargs):
    raise Http404


def dossier_submit(request, *args, **kwargs):
    raise Http404


def dossier_withdraw(request, *args, **kwargs):
    raise Http404


def dossier_reinstate(request, *args, **kwargs):
    raise Http404


def submission_detail(request, *args, **kwargs):
    raise Http404


def submission_pdf(request, *args, **kwargs):
    raise Http404
