"""Reading the text back out of a rendered PDF, for the tests that check what it says."""

import io
import re

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)
