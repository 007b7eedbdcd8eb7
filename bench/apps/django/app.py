"""WSGI entry point for the Django basic endpoints (``app:app``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djbench.settings")
app = get_wsgi_application()
