"""Deadline-rush load benchmark: gunicorn, Celery, PostgreSQL and Redis on loopback, Locust playing
applicants who open sections, autosave, upload a PDF and submit (see docs/PERFORMANCE.md)."""
