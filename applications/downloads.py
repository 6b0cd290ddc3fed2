"""Private files (attachments, PDFs, reports) leave the portal only through this response."""

from django.http import FileResponse
from django.utils.cache import patch_cache_control


def private_download(field_file, filename: str, content_type: str | None = None) -> FileResponse:
    """Always a download, never rendered by the browser, never kept by a shared cache."""
    response = FileResponse(
        field_file.storage.open(field_file.name, "rb"),
        as_attachment=True,
        filename=filename,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True)
    return response
