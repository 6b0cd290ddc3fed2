"""Private files (attachments, PDFs, reports) leave the portal only through this response."""

from django.http import FileResponse, Http404
from django.utils.cache import patch_cache_control


def private_download(field_file, filename: str, content_type: str | None = None) -> FileResponse:
    """Always a download, never rendered by the browser, never kept by a shared cache.

    Fails closed on the antivirus: a file whose owner says it is not usable yet (an attachment
    waiting for its scan, or found infected) is a 404, whichever view asks for it.
    """
    if not getattr(getattr(field_file, "instance", None), "is_usable", True):
        raise Http404("Fichier en attente d'analyse antivirus ou refusé par l'antivirus.")
    response = FileResponse(
        field_file.storage.open(field_file.name, "rb"),
        as_attachment=True,
        filename=filename,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True)
    return response
