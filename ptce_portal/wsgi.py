import os

from django.core.wsgi import get_wsgi_application

from ptce_portal.warmup import freeze_what_is_loaded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ptce_portal.settings")
application = get_wsgi_application()
freeze_what_is_loaded()
