"""What a long-lived process (a gunicorn worker, a Celery pool process) does before its first
request or task: load what every request needs, then put it out of the garbage collector's reach."""

import gc
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def compile_templates() -> int:
    """Compile every template of the portal's own folders (TEMPLATES' DIRS) into the cached loader;
    returns how many.

    Otherwise each process compiles a page's templates on that page's first request: 40-55 ms
    more for the first receipt, the first submission or the first PDF of every worker, after every
    start or restart (docs/PERFORMANCE.md). A template that does not compile is logged and left
    for its page to report, as it would be without this."""
    from django.template import TemplateSyntaxError, engines

    compiled = 0
    for backend in engines.all():
        for folder in map(Path, getattr(getattr(backend, "engine", None), "dirs", [])):
            for path in sorted(folder.rglob("*")):
                if not path.is_file():
                    continue
                name = path.relative_to(folder).as_posix()
                try:
                    backend.get_template(name)
                except TemplateSyntaxError:
                    logger.exception("template %s does not compile", name)
                    continue
                compiled += 1
    return compiled


def prepare_task_sending() -> None:
    """Build what a process's first `send_task` would: the Celery app's result backend, message
    router and producer pool, with their imports (60-70 ms, 20 ms of it on the first submission of
    each worker). Nothing connects: the broker may be down now and up when the first task is sent."""
    from ptce_portal.celery import app

    app.backend  # noqa: B018 - built on first access
    app.producer_pool  # noqa: B018 - the same (it builds app.amqp)


def freeze_what_is_loaded() -> None:
    """Load the URLconf (and the views it imports), the French translations, the portal's templates
    and what sends tasks, then move every object alive now into the collector's permanent generation.

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
    compile_templates()
    prepare_task_sending()
    gc.collect()
    gc.freeze()
