from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def django_wsgi(tmp_path_factory):
    """The example Django project's WSGI handler and database file.

    Django's settings are global to a process: the project is configured once, by
    whichever test (here or in examples/migrate_django) asks first.
    """
    from examples.migrate_django.legacy import project

    handler = project.setup(tmp_path_factory.mktemp("django") / "legacy.sqlite3")
    return handler, project.database()
