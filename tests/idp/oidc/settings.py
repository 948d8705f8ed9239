"""Settings of the test OpenID Connect provider; its database is IDP_DATABASE (SQLite)."""

import os

SECRET_KEY = "test-identity-provider-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oidc_provider",
    "tests.idp.oidc",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.idp.oidc.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("IDP_DATABASE", "idp.sqlite3"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
# Cookies do not tell ports apart: on 127.0.0.1 beside Fullfölj, the provider's must have names
# of their own, or each would overwrite the other's session.
SESSION_COOKIE_NAME = "idp_session"
CSRF_COOKIE_NAME = "idp_csrftoken"
LOGIN_URL = "/login/"
# Fast password hashing: the provider's users are throwaway.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

OIDC_EXTRA_SCOPE_CLAIMS = "tests.idp.oidc.claims.EmployeeScopeClaims"
OIDC_IDTOKEN_PROCESSING_HOOK = "tests.idp.oidc.claims.add_authentication_methods"
OIDC_IDTOKEN_INCLUDE_CLAIMS = False
