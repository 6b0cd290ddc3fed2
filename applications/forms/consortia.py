"""Forms of the pole's pages: the consortium, its organisations, team invitations.

They only validate and normalise what was typed; the views hand `cleaned_data` to the
services of `applications.consortia`, which save.
"""

from __future__ import annotations

import re

from django import forms
from django.core.validators import RegexValidator

from ..consortia import normalise_departement, validate_departement
from ..models import Consortium, Membership, Organisation, Sector
from ..sirets import normalise_siret, validate_siret

DOMAIN_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


class ConsortiumForm(forms.ModelForm):
    sectors = forms.MultipleChoiceField(
        label="Secteurs d'activité",
        choices=Sector.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Cochez au moins un secteur d'activité."},
    )

    class Meta:
        model = Consortium
        fields = ["name", "communes", "departement", "region", "territory_priority", "maturity", "sectors"]
        widgets = {"departement": forms.TextInput(attrs={"size": 3, "autocomplete": "off"})}

    def clean_departement(self) -> str:
        value = normalise_departement(self.cleaned_data["departement"])
        validate_departement(value)
        return value


class OrganisationForm(forms.ModelForm):
    # Wider than the stored 14 digits: people paste SIRETs with spaces ("732 829 320 00074").
    siret = forms.CharField(
        label="SIRET",
        max_length=20,
        help_text="14 chiffres, espaces acceptés. Vous le trouverez sur l'avis de situation Sirene.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    postcode = forms.CharField(
        label="Code postal",
        max_length=5,
        validators=[RegexValidator(r"^\d{5}$", "Le code postal doit comporter 5 chiffres.")],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )

    class Meta:
        model = Organisation
        fields = [
            "name",
            "siret",
            "legal_form",
            "kind",
            "address",
            "postcode",
            "commune",
            "email_domain",
            "is_lead",
        ]
        help_texts = {
            "is_lead": "Un pôle n'a qu'une structure porteuse : la cocher ici la retire à l'actuelle.",
            "email_domain": "Facultatif. Par exemple halage.fr (sans @).",
        }

    def __init__(self, *args, consortium: Consortium, **kwargs):
        self.consortium = consortium
        kwargs.setdefault("instance", Organisation(consortium=consortium))
        super().__init__(*args, **kwargs)

    def clean_siret(self) -> str:
        value = self.cleaned_data["siret"]
        validate_siret(value)
        siret = normalise_siret(value)
        others = self.consortium.organisations.filter(siret=siret)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("Une organisation de ce pôle a déjà ce SIRET.", code="duplicate_siret")
        return siret

    def clean_email_domain(self) -> str:
        value = self.cleaned_data["email_domain"].strip().lower()
        if "@" in value:
            value = value.rsplit("@", 1)[1]
        if value and not DOMAIN_RE.match(value):
            raise forms.ValidationError("Indiquez un nom de domaine, par exemple halage.fr.", code="domain")
        return value


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Adresse e-mail de la personne invitée")
    role = forms.ChoiceField(
        label="Rôle",
        choices=[
            (Membership.Role.EDITOR.value, "Rédacteur : peut modifier le pôle et ses dossiers"),
            (Membership.Role.READER.value, "Lecteur : peut consulter sans modifier"),
        ],
        initial=Membership.Role.EDITOR,
        widget=forms.RadioSelect,
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()
