"""What a long-lived process (a gunicorn worker, a Celery worker process) does before its first
request or task: load what every request needs, then put it out of the garbage collector's reach."""

import gc


def freeze_what_is_loaded() -> None:
    """Load the URLconf (and the views it imports) and the French translations, then move every
    object alive now into the collector's permanent generation.

    A warmed-up process holds hundreds of thousands of long-lived objects (Django, WeasyPrint,
    NumPy/SciPy, the loaded apps); a full collection walks all of them: it stalled the request in
    flight for 200–300 ms, and it was 14 % of a PDF render's time (45 of 320 ms; 5 ms frozen;
    docs/PERFORMANCE.md). Frozen, they are never walked again. Nothing is leaked: frozen objects
    are only objects that live as long as the process anyway."""
    from django.conf import settings
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018 - imports every view module
    translation.activate(settings.LANGUAGE_CODE)
    translation.deactivate()
    gc.collect()
    gc.freeze()
