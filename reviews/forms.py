from django import forms

from .models import Criterion, Review


class ConflictCheckForm(forms.Form):
    """Asked before the first view of a dossier's content."""

    CHOICES = [
        ("none", "Je confirme n'avoir aucun conflit d'intérêts avec ce dossier"),
        ("conflict", "Je déclare un conflit d'intérêts"),
    ]
    answer = forms.ChoiceField(label="Conflit d'intérêts", choices=CHOICES, widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Motif (si conflit)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Par exemple : je siège au conseil d'administration d'une structure membre.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("answer") == "conflict" and not cleaned.get("reason", "").strip():
            self.add_error("reason", "Indiquez le motif du conflit d'intérêts.")
        return cleaned


class ReviewForm(forms.Form):
    """One score (or "not applicable") and one comment per criterion, then the overall opinion."""

    recommendation = forms.ChoiceField(
        label="Recommandation", choices=[("", "—"), *Review.Recommendation.choices], required=False
    )
    overall_comment = forms.CharField(label="Avis général", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, criteria: list[Criterion], **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            choices = [("", "—")] + [(str(n), str(n)) for n in range(criterion.scale_max + 1)]
            if criterion.allows_not_applicable:
                choices.append(("na", "Sans objet"))
            self.fields[f"score_{criterion.pk}"] = forms.ChoiceField(
                label=f"{criterion.name} (sur {criterion.scale_max}, coefficient {criterion.weight})",
                choices=choices,
                required=False,
                help_text=criterion.guidance,
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=f"Commentaire — {criterion.name}", required=False, widget=forms.Textarea(attrs={"rows": 2})
            )

    def criterion_rows(self):
        return [(c, self[f"score_{c.pk}"], self[f"comment_{c.pk}"]) for c in self.criteria]

    def score_inputs(self):
        from .services import ScoreInput

        inputs = []
        for criterion in self.criteria:
            raw = self.cleaned_data.get(f"score_{criterion.pk}", "")
            inputs.append(
                ScoreInput(
                    criterion_id=criterion.pk,
                    value=int(raw) if raw not in ("", "na") else None,
                    not_applicable=raw == "na",
                    comment=self.cleaned_data.get(f"comment_{criterion.pk}", ""),
                )
            )
        return inputs


class UnlockForm(forms.Form):
    reason = forms.CharField(label="Motif du déverrouillage", widget=forms.Textarea(attrs={"rows": 3}))


class MessageForm(forms.Form):
    body = forms.CharField(label="Votre message", widget=forms.Textarea(attrs={"rows": 4}))
    attachment = forms.FileField(
        label="Pièce jointe (facultative)",
        required=False,
        help_text="PDF, PNG, JPEG, DOCX, XLSX, ODT ou ODS ; le format est vérifié d'après le contenu du fichier.",
    )
