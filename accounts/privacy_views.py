"""The personal data page: what the portal holds, a JSON download, closing the account."""

from __future__ import annotations

import json

from allauth.account.adapter import get_adapter as get_account_adapter
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from . import privacy


class CloseAccountForm(forms.Form):
    password = forms.CharField(
        label="Votre mot de passe", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    confirm = forms.BooleanField(
        label="Je comprends que la fermeture est définitive : je ne pourrai plus me connecter avec cette adresse "
        "ni retrouver mes accès aux pôles."
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        # Through allauth, so wrong passwords count against the same log-in throttle (5 per 15 minutes)
        # and a stolen session cannot be used to guess the password.
        if not get_account_adapter().reauthenticate(self.user, password):
            raise forms.ValidationError("Mot de passe incorrect.")
        return password


@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "POST"])
def privacy_page(request):
    obstacles = privacy.deletion_obstacles(request.user)
    form = None if obstacles else CloseAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form is not None and form.is_valid():
        privacy.close_account(request.user)
        logout(request)
        messages.success(request, "Votre compte est fermé et les données qui vous identifiaient ont été effacées.")
        return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/privacy.html",
        {"scope": privacy.EXPORT_SCOPE, "obstacles": obstacles, "form": form},
        status=status,
    )


@login_required
@require_GET
def privacy_export(request):
    data = privacy.export_personal_data(request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    filename = f"mes-donnees-portail-ptce-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
