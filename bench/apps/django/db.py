"""WSGI entry point for the Django database scenarios (``db:app``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djbench.settings_db")
app = get_wsgi_application()
