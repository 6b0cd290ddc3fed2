import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ptce_portal.settings")
application = get_wsgi_application()


def _freeze_what_is_loaded() -> None:
    """Load what every request needs (the URLconf and the views it imports, the French
    translations), then move every object alive now into the collector's permanent generation.

    A warmed-up worker holds hundreds of thousands of long-lived objects (Django, WeasyPrint,
    NumPy/SciPy, the loaded apps); a full collection walks all of them and stalls the request
    in flight for 200–300 ms (measured in docs/PERFORMANCE.md). Frozen, they are never walked
    again: a full collection then takes a few milliseconds. Nothing is leaked: frozen objects
    are only objects that live as long as the process anyway."""
    from django.conf import settings
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018 - imports every view module
    translation.activate(settings.LANGUAGE_CODE)
    translation.deactivate()
    gc.collect()
    gc.freeze()


_freeze_what_is_loaded()
