"""Settings for the basic endpoints: no database, no middleware (as in TechEmpower)."""

SECRET_KEY = "bench-only-not-a-secret"  # noqa: S105 - a local benchmark, never deployed
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "djbench.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, object]] = {}
USE_TZ = True
