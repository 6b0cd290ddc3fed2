"""The dossier's sections: one Django form each, stored as raw data in DossierSection.data.

Drafts keep whatever was typed, valid or not; a section is complete when its form validates
against what is stored. Submission requires every section complete. The budget form is built
per call (one column per funding year).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError

from .models import Call

TEXT = forms.Textarea(attrs={"rows": 5})
SHORT_TEXT = forms.Textarea(attrs={"rows": 3})


def text(label: str, *, help_text: str = "", max_length: int = 5000, required: bool = True, short=False):
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=max_length,
        required=required,
        widget=SHORT_TEXT if short else TEXT,
    )


def count(label: str, *, help_text: str = ""):
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        min_value=0,
        max_value=100_000,
        error_messages={"min_value": "Indiquez un nombre positif ou nul.", "invalid": "Indiquez un nombre entier."},
    )


def euros(label: str):
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=100_000_000,
        required=False,
        error_messages={
            "min_value": "Les montants ne peuvent pas être négatifs.",
            "invalid": "Indiquez un montant en euros entiers, sans centimes.",
        },
    )


class SectionForm(forms.Form):
    key: str = ""
    title: str = ""
    intro: str = ""

    def __init__(self, *args, call: Call, **kwargs):
        self.call = call
        super().__init__(*args, **kwargs)


class SummaryForm(SectionForm):
    key = "resume"
    title = "Présentation du projet"
    intro = "L'essentiel du projet du pôle, en quelques lignes."

    project_title = forms.CharField(label="Intitulé du projet", max_length=200)
    summary = text("Résumé du projet", help_text="2 000 caractères au plus.", max_length=2000)
    objectives = text("Objectifs sur les trois années", max_length=4000)


class PoolingForm(SectionForm):
    key = "mutualisation"
    title = "Mutualisation"
    intro = "Ce que les membres du pôle mettent en commun : locaux, services, compétences."

    premises = text("Locaux mutualisés", required=False)
    services = text("Services mutualisés", required=False)
    skills = text("Compétences et emplois mutualisés", required=False)

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(name) for name in ("premises", "services", "skills")):
            raise ValidationError("Décrivez au moins une forme de mutualisation : locaux, services ou compétences.")
        return cleaned


class SocialInnovationForm(SectionForm):
    key = "innovation-sociale"
    title = "Innovation sociale"

    description = text("En quoi le projet est-il socialement innovant ?")
    beneficiaries = text("Publics et besoins sociaux visés", short=True)


class TerritoryForm(SectionForm):
    key = "territoire"
    title = "Ancrage territorial et priorité"
    intro = "Le territoire du pôle, ses difficultés et les partenaires locaux."

    anchoring = text("Ancrage dans le territoire")
    priority_justification = text(
        "Situation du territoire",
        help_text="Quartier populaire, bassin désindustrialisé, zone rurale en déclin : décrivez la situation.",
    )
    local_partners = text("Partenaires locaux (collectivités, entreprises, recherche, formation)", short=True)


class JobsForm(SectionForm):
    key = "emplois"
    title = "Emplois"
    intro = "Les emplois du pôle aujourd'hui et ceux que le projet créera, en équivalents temps plein."

    existing_jobs = count("Emplois existants (ETP)")
    existing_integration_jobs = count("Dont emplois en insertion (ETP)")
    planned_jobs = count("Emplois créés d'ici trois ans (ETP)")
    non_relocatable_jobs = count(
        "Dont emplois non délocalisables (ETP)",
        help_text="Parmi les emplois existants et créés, ceux qui sont attachés au territoire.",
    )
    volunteers = count("Bénévoles")
    description = text("Nature des emplois et perspective de développement durable", short=True)

    def clean(self):
        cleaned = super().clean()
        existing, integration = cleaned.get("existing_jobs"), cleaned.get("existing_integration_jobs")
        if existing is not None and integration is not None and integration > existing:
            self.add_error(
                "existing_integration_jobs", "Les emplois en insertion ne peuvent dépasser les emplois existants."
            )
        planned, non_relocatable = cleaned.get("planned_jobs"), cleaned.get("non_relocatable_jobs")
        if None not in (existing, planned, non_relocatable) and non_relocatable > existing + planned:
            self.add_error(
                "non_relocatable_jobs",
                f"Les emplois non délocalisables ({non_relocatable}) ne peuvent dépasser le total des emplois "
                f"existants et créés ({existing + planned}).",
            )
        return cleaned


class EcologyForm(SectionForm):
    key = "transition-ecologique"
    title = "Transition écologique"

    description = text("Contribution à la conversion écologique et sociale de l'économie locale")


class GovernanceForm(SectionForm):
    key = "gouvernance"
    title = "Gouvernance"

    description = text("Organisation de la gouvernance du pôle")
    decision_making = text("Place de chaque membre dans les décisions", short=True)


EXPENSE_CATEGORIES = [
    ("staff", "Frais de personnel"),
    ("premises", "Locaux et charges"),
    ("equipment", "Équipement et investissement"),
    ("services", "Prestations et sous-traitance"),
    ("travel", "Déplacements et communication"),
    ("other", "Autres dépenses"),
]
COFUNDING_SOURCES = [
    ("region", "Conseil régional"),
    ("departement", "Conseil départemental"),
    ("municipal", "Communes et intercommunalités"),
    ("state_other", "Autres financements de l'État"),
    ("europe", "Fonds européens (FSE, FEDER)"),
    ("private", "Fondations et mécénat"),
    ("own", "Fonds propres et recettes"),
]


class BudgetForm(SectionForm):
    """Expenses by category and year, co-funding by source and year, and the amount requested."""

    key = "budget"
    title = "Budget sur trois ans"
    intro = (
        "Montants en euros entiers, hors centimes. Le budget doit être équilibré chaque année : "
        "la subvention demandée et les cofinancements couvrent exactement les dépenses."
    )

    def __init__(self, *args, call: Call, **kwargs):
        super().__init__(*args, call=call, **kwargs)
        self.years = call.funding_year_list
        for code, label in EXPENSE_CATEGORIES:
            for index, year in enumerate(self.years):
                self.fields[f"expense_{code}_{index}"] = euros(f"{label} — {year}")
        for code, label in COFUNDING_SOURCES:
            for index, year in enumerate(self.years):
                self.fields[f"cofunding_{code}_{index}"] = euros(f"{label} — {year}")
        for index, year in enumerate(self.years):
            self.fields[f"requested_{index}"] = euros(f"Subvention demandée — {year}")

    def rows(self, prefix: str, categories: Iterable[tuple[str, str]]):
        """Table rows for the template: (label, [bound fields per year])."""
        return [
            (label, [self[f"{prefix}_{code}_{index}"] for index in range(len(self.years))])
            for code, label in categories
        ]

    def expense_rows(self):
        return self.rows("expense", EXPENSE_CATEGORIES)

    def cofunding_rows(self):
        return self.rows("cofunding", COFUNDING_SOURCES)

    def requested_rows(self):
        return [("Subvention demandée", [self[f"requested_{index}"] for index in range(len(self.years))])]

    def summary(self) -> dict:
        """Totals of what is on screen (typed or stored), for the table footer."""
        return budget_summary(self.data if self.is_bound else self.initial, self.years)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        summary = budget_summary(cleaned, self.years)
        if summary["requested"]["total"] <= 0:
            raise ValidationError("Indiquez le montant de la subvention demandée.")
        if summary["requested"]["total"] > summary["totals"]["costs_total"]:
            raise ValidationError(
                "La subvention demandée ne peut dépasser le total des dépenses "
                f"({format_euros(summary['requested']['total'])} demandés pour "
                f"{format_euros(summary['totals']['costs_total'])} de dépenses)."
            )
        for year, costs, resources in zip(
            self.years, summary["totals"]["costs"], summary["totals"]["resources"], strict=True
        ):
            if costs != resources:
                raise ValidationError(
                    f"Le budget {year} n'est pas équilibré : {format_euros(costs)} de dépenses pour "
                    f"{format_euros(resources)} de ressources (subvention demandée et cofinancements)."
                )
        return cleaned


def _amount(data: dict, name: str) -> int:
    value = data.get(name)
    try:
        return max(int(value), 0) if value not in (None, "") else 0
    except (TypeError, ValueError):
        return 0


def budget_summary(data: dict, years: list[int]) -> dict:
    """Totals of a budget from raw or cleaned data; unreadable amounts count as zero."""

    def lines(prefix, categories):
        result = []
        for code, label in categories:
            amounts = [_amount(data, f"{prefix}_{code}_{index}") for index in range(len(years))]
            result.append({"code": code, "label": label, "amounts": amounts, "total": sum(amounts)})
        return result

    expenses = lines("expense", EXPENSE_CATEGORIES)
    cofunding = lines("cofunding", COFUNDING_SOURCES)
    requested = [_amount(data, f"requested_{index}") for index in range(len(years))]
    costs = [sum(line["amounts"][index] for line in expenses) for index in range(len(years))]
    resources = [requested[index] + sum(line["amounts"][index] for line in cofunding) for index in range(len(years))]
    return {
        "years": years,
        "expenses": expenses,
        "cofunding": cofunding,
        "requested": {"amounts": requested, "total": sum(requested)},
        "totals": {
            "costs": costs,
            "costs_total": sum(costs),
            "resources": resources,
            "resources_total": sum(resources),
        },
    }


def format_euros(amount: int) -> str:
    """French format: narrow no-break space between thousands, then a no-break space and €."""
    return f"{amount:,}".replace(",", "\u202f") + "\u00a0€"


class DeclarationForm(SectionForm):
    key = "declaration"
    title = "Déclaration sur l'honneur"

    accepted = forms.BooleanField(
        label=(
            "Je certifie sur l'honneur l'exactitude des informations du dossier et que la structure porteuse "
            "est à jour de ses obligations sociales et fiscales."
        ),
        error_messages={"required": "Cochez la déclaration sur l'honneur pour pouvoir déposer le dossier."},
    )
    signatory_name = forms.CharField(label="Nom et prénom du signataire", max_length=150)
    signatory_role = forms.CharField(
        label="Qualité du signataire", max_length=150, help_text="Par exemple : président."
    )


SECTION_FORMS: list[type[SectionForm]] = [
    SummaryForm,
    PoolingForm,
    SocialInnovationForm,
    TerritoryForm,
    JobsForm,
    EcologyForm,
    GovernanceForm,
    BudgetForm,
    DeclarationForm,
]
SECTIONS_BY_KEY: dict[str, type[SectionForm]] = {form.key: form for form in SECTION_FORMS}


@dataclass(frozen=True)
class SectionState:
    key: str
    title: str
    complete: bool
    started: bool
    errors: list[str]


def stored_data(form_class: type[SectionForm], call: Call, data: dict) -> dict:
    """Keep only the form's own fields from posted data, as strings (what the user typed)."""
    form = form_class(call=call)
    kept = {}
    for name in form.fields:
        if name in data:
            value = data[name]
            kept[name] = value if isinstance(value, str) else str(value)
    return kept


def bind_sections(call: Call, data_by_key: dict[str, dict]) -> dict[str, SectionForm]:
    """Each section's form bound to its stored data (none stored: empty), by key. A form validates
    once, when first asked: the completeness check and the snapshot of a submission share them."""
    return {
        form_class.key: form_class(data=data_by_key.get(form_class.key, {}), call=call) for form_class in SECTION_FORMS
    }


def state_of(form: SectionForm) -> SectionState:
    complete = form.is_valid()
    messages = []
    if not complete:
        messages = [str(message) for message in form.non_field_errors()]
        missing = [str(form.fields[name].label) for name in form.errors if name != "__all__"]
        if missing:
            messages.append("À compléter ou corriger : " + ", ".join(missing[:6]) + ("…" if len(missing) > 6 else ""))
    return SectionState(
        key=form.key,
        title=form.title,
        complete=complete,
        started=any(str(value).strip() for value in form.data.values()),
        errors=messages,
    )


def section_state(form_class: type[SectionForm], call: Call, data: dict) -> SectionState:
    return state_of(form_class(data=data, call=call))


def display_value(field: forms.Field, value) -> str:
    if isinstance(field, forms.BooleanField):
        return "Oui" if value in (True, "on", "true", "True", "1") else "Non"
    if isinstance(field, forms.IntegerField):
        return "" if value in (None, "") else f"{int(value):,}".replace(",", "\u202f")
    return "" if value is None else str(value)


def snapshot_sections(forms: dict[str, SectionForm]) -> list[dict]:
    """Sections as label/value pairs for the frozen snapshot (the budget has its own block), from
    the forms of `bind_sections`."""
    result = []
    for form_class in SECTION_FORMS:
        if form_class is BudgetForm:
            continue
        form = forms[form_class.key]
        form.is_valid()
        fields = [
            {"name": name, "label": str(field.label), "value": display_value(field, form.cleaned_data.get(name))}
            for name, field in form.fields.items()
        ]
        result.append({"key": form_class.key, "title": form_class.title, "fields": fields})
    return result
