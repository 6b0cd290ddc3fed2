"""Forms of the awards pages: the selection console, accepting a proposal, activity reports."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from applications.models import Call, TerritoryPriority
from applications.uploads import ACCEPT_ATTRIBUTE, ACCEPTED_FORMATS, format_size_limit, size_error

from .selection import Constraints

SCORE_CHOICES = [("calibrated", "Note calibrée"), ("raw", "Note brute (moyenne)")]


def parse_ids(values) -> list[int]:
    """Dossier ids from form values; anything that is not a positive integer is ignored."""
    ids = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if part.isdigit():
                ids.append(int(part))
    return list(dict.fromkeys(ids))


def bootstrap(form: forms.Form) -> None:
    for name, form_field in form.fields.items():
        if isinstance(form_field.widget, forms.CheckboxInput):
            form_field.widget.attrs.setdefault("class", "form-check-input")
            continue
        css = "form-select" if isinstance(form_field.widget, forms.Select) else "form-control"
        if "_min_" in name or "_max_" in name:
            css += " form-control-sm"
        form_field.widget.attrs.setdefault("class", css)


class SelectionForm(forms.Form):
    """What-if parameters of the selection (GET). Group quotas come as one minimum and one
    maximum field per région present in the ranking and per territorial priority."""

    ordre = forms.ChoiceField(label="Ordre du classement", choices=SCORE_CHOICES, required=False)
    note = forms.ChoiceField(
        label="Note utilisée pour la sélection",
        choices=[("", "Celle du classement"), *SCORE_CHOICES],
        required=False,
    )
    max_laureats = forms.IntegerField(label="Nombre maximal de lauréats", min_value=0, required=False)
    ecart = forms.DecimalField(
        label="Écart de note signalant une quasi-égalité (points)",
        min_value=0,
        max_value=100,
        decimal_places=2,
        required=False,
        localize=True,
    )

    couts = forms.BooleanField(
        label="Calculer les coûts marginaux (dossiers proposés et 10 suivants)",
        required=False,
        help_text="Une résolution par dossier : quelques secondes pour 200 dossiers, bien plus au-delà.",
    )

    def __init__(self, *args, call: Call, regions: list[tuple[str, str]], costs_by_default: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        self.costs_by_default = costs_by_default
        self.fields["couts"].initial = costs_by_default
        self.fields[
            "max_laureats"
        ].help_text = f"Par défaut, le nombre de lauréats visé par l'appel ({call.target_laureates})."
        # Quotas are keyed by label: the selection's French messages then name the région.
        self.region_fields = [self._pair("region", code, label) for code, label in regions]
        self.priority_fields = [self._pair("priorite", code, label) for code, label in TerritoryPriority.choices]
        self.year_fields = []
        for year in call.funding_year_list:
            name = f"plafond_{year}"
            self.fields[name] = forms.IntegerField(label=f"Plafond {year} (€)", min_value=0, required=False)
            self.year_fields.append((year, self[name]))
        bootstrap(self)

    def _pair(self, prefix: str, code: str, label: str):
        low, high = f"{prefix}_min_{code}", f"{prefix}_max_{code}"
        self.fields[low] = forms.IntegerField(label=f"Minimum — {label}", min_value=0, required=False)
        self.fields[high] = forms.IntegerField(label=f"Maximum — {label}", min_value=0, required=False)
        return label, self[low], self[high]

    def clean(self):
        data = super().clean()
        for _label, low, high in [*self.region_fields, *self.priority_fields]:
            minimum, maximum = data.get(low.name), data.get(high.name)
            if minimum is not None and maximum is not None and minimum > maximum:
                self.add_error(high.name, "Le maximum doit être au moins égal au minimum.")
        return data

    def value(self, name: str):
        """The cleaned value of a valid bound form, the default otherwise."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get(name)

    @property
    def order(self) -> str:
        return self.value("ordre") or "calibrated"

    @property
    def score(self) -> str:
        return self.value("note") or self.order

    @property
    def with_costs(self) -> bool:
        return bool(self.value("couts")) if self.is_bound else self.costs_by_default

    @property
    def near(self) -> float:
        value = self.value("ecart")
        return 0.5 if value is None else float(value)

    def constraints(self, *, locked_in: set[int], locked_out: set[int]) -> Constraints:
        def quotas(pairs, kind):
            result = {}
            for label, low, high in pairs:
                value = self.value(low.name if kind == "min" else high.name)
                if value is not None:
                    result[label] = value
            return result

        max_laureates = self.value("max_laureats")
        caps = [self.value(field.name) for _year, field in self.year_fields]
        return Constraints(
            envelope=self.call.envelope,
            max_laureates=self.call.target_laureates if max_laureates is None else max_laureates,
            min_per_region=quotas(self.region_fields, "min"),
            max_per_region=quotas(self.region_fields, "max"),
            min_per_priority=quotas(self.priority_fields, "min"),
            max_per_priority=quotas(self.priority_fields, "max"),
            year_limits=None
            if all(cap is None for cap in caps)
            else tuple(self.call.envelope if cap is None else cap for cap in caps),
            locked_in=frozenset(locked_in),
            locked_out=frozenset(locked_out),
            year_labels=tuple(str(year) for year in self.call.funding_year_list),
        )


class AcceptSelectionForm(forms.Form):
    selected = forms.CharField(widget=forms.HiddenInput)
    committee_date = forms.DateField(
        label="Date du comité de sélection", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    rationale = forms.CharField(
        label="Motivation (reprise dans chaque décision)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap(self)

    def clean_selected(self) -> list[int]:
        ids = parse_ids([self.cleaned_data["selected"]])
        if not ids:
            raise ValidationError("La proposition ne contient aucun dossier.")
        return ids


class ReportUploadForm(forms.Form):
    """The year and the file; what the file is gets checked by services.add_report."""

    year_index = forms.TypedChoiceField(label="Année du programme", coerce=int)
    # Last field: an oversized file is skipped by the upload handler, the year is kept.
    file = forms.FileField(
        label="Rapport d'activité et financier",
        required=False,
        widget=forms.FileInput(attrs={"accept": ACCEPT_ATTRIBUTE}),
    )

    def __init__(self, *args, years: list[tuple[int, str]], max_bytes: int, too_large: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        self.too_large = too_large
        self.fields["year_index"].choices = years
        self.fields["file"].help_text = (
            f"Formats acceptés : {ACCEPTED_FORMATS}, {format_size_limit(max_bytes)} au maximum. "
            "Le format est reconnu d'après le contenu du fichier, pas d'après son nom."
        )

    def clean_file(self):
        if self.too_large:
            raise size_error(self.max_bytes)
        uploaded_file = self.cleaned_data.get("file")
        if not uploaded_file:
            raise ValidationError("Choisissez le fichier à déposer.", code="required")
        return uploaded_file
