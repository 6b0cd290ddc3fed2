"""Settings of the load benchmarks: the portal's own settings, plus a calibration view.

Only `bench/urls.py` differs: it adds /bench/calibration/, a page that goes through the whole
middleware stack (session, authentication, CSRF, messages, history...) and makes one indexed query.
Every latency figure of `bench.rush` and `bench.staff_pages_bench` is a ratio to that page's p95
measured in the same phase, so a busy machine moves both sides of the ratio.

    DJANGO_SETTINGS_MODULE=bench.settings
"""

from ptce_portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
