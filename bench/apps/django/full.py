"""WSGI entry point for the Django full-stack scenarios (``full:app``).

python full.py setup     # migrate (schema bench_django) and create the user
"""

import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djbench.settings_full")
app = get_wsgi_application()

EMAIL = "bench@example.com"
PASSWORD = "bench-password-2026"  # noqa: S105 - the benchmark user of a local database


def setup() -> None:
    """Apply the migrations and create the benchmark user (its username is its email)."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if not User.objects.filter(username=EMAIL).exists():
        User.objects.create_user(EMAIL, EMAIL, PASSWORD)


if __name__ == "__main__" and sys.argv[1:] == ["setup"]:
    setup()
