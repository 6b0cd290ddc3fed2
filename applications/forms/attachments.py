from django import forms
from django.core.exceptions import ValidationError

from ..models import AttachmentType, Call
from ..uploads import ACCEPT_ATTRIBUTE, ACCEPTED_FORMATS, format_size_limit, size_error


class _ReadTypes(forms.models.ModelChoiceIterator):
    """The options from the types the page has already read, when it has (`AttachmentTypeChoiceField.read`):
    Django's iterator would query them again, through a server-side cursor (three round trips)."""

    def __iter__(self):
        if self.field.read is None:
            yield from super().__iter__()
            return
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for attachment_type in self.field.read:
            yield self.choice(attachment_type)


class AttachmentTypeChoiceField(forms.ModelChoiceField):
    iterator = _ReadTypes
    read: list[AttachmentType] | None = None  # the call's types, in the queryset's order; validation still queries

    def label_from_instance(self, obj: AttachmentType) -> str:
        return f"{obj.label} (obligatoire)" if obj.required else obj.label


class AttachmentUploadForm(forms.Form):
    """Choose the kind of piece and the file. What the file is gets checked by the service."""

    attachment_type = AttachmentTypeChoiceField(
        label="Type de pièce",
        queryset=AttachmentType.objects.none(),
        required=False,
        empty_label="Autre pièce (facultative)",
    )
    # Last field: an oversized file is skipped by the upload handler, fields before it are kept.
    file = forms.FileField(label="Fichier", required=False, widget=forms.FileInput(attrs={"accept": ACCEPT_ATTRIBUTE}))

    def __init__(self, *args, call: Call, max_bytes: int, too_large: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        self.too_large = too_large
        self.fields["attachment_type"].queryset = call.attachment_types.all()
        self.fields["file"].help_text = (
            f"Formats acceptés : {ACCEPTED_FORMATS}, {format_size_limit(max_bytes)} au maximum. "
            "Le format est reconnu d'après le contenu du fichier, pas d'après son nom."
        )

    def show_types(self, types: list[AttachmentType]) -> None:
        """The select offers these (the call's types, already read by the view) instead of querying them."""
        self.fields["attachment_type"].read = types

    def clean_file(self):
        if self.too_large:
            raise size_error(self.max_bytes)
        uploaded_file = self.cleaned_data.get("file")
        if not uploaded_file:
            raise ValidationError("Choisissez le fichier à déposer.", code="required")
        return uploaded_file
