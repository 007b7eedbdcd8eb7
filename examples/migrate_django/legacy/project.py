"""The legacy Django project, configured in-process (what `settings.py` + `wsgi.py` do).

Django's settings are global to a process, so `setup()` configures them once; later
calls reuse that configuration (and its database).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django
from django.conf import settings

SECRET_KEY = "legacy-django-secret-key-0123456789-abcdefghijklmnop"


def setup(database: Path) -> Any:
    """Configure Django, create its tables, and return the project's WSGI handler."""
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY=SECRET_KEY,
            ALLOWED_HOSTS=["testserver", "127.0.0.1", "localhost"],
            ROOT_URLCONF="examples.migrate_django.legacy.urls",
            INSTALLED_APPS=[
                "django.contrib.contenttypes",
                "django.contrib.auth",
                "django.contrib.sessions",
                "examples.migrate_django.legacy",
            ],
            MIDDLEWARE=[
                "django.contrib.sessions.middleware.SessionMiddleware",
                "django.middleware.common.CommonMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
            ],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}},
            # A fast hasher keeps the tests quick; a real project keeps Django's default.
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            USE_TZ=True,
            DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        )
        django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0, interactive=False)
    return get_wsgi_application()


def database() -> str:
    """The configured database file."""
    return str(settings.DATABASES["default"]["NAME"])
