from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def django_wsgi(tmp_path_factory):
    """The test Django project's WSGI handler (Django's settings are per process)."""
    from tests.interop.django_legacy import setup

    database = tmp_path_factory.mktemp("django") / "legacy.sqlite3"
    handler = setup(database)
    from django.conf import settings

    return handler, settings.DATABASES["default"]["NAME"]
