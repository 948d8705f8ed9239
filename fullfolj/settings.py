"""Settings for Fullfölj. Everything deployment-specific comes from the environment;
the defaults run on SQLite on 127.0.0.1, and need SECRET_KEY or FULLFOLJ_DEMO=1 (the demo)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("FULLFOLJ_DATA_DIR", BASE_DIR.parent / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


DEBUG = env_bool("DEBUG", False)
# Demo mode is asked for (`fullfolj demo`, the tests), never assumed: a production server that
# forgot its key must stop, not sign sessions with a key anyone can read in the source.
DEMO = env_bool("FULLFOLJ_DEMO", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or DEMO):
        raise RuntimeError("Set SECRET_KEY in production (or FULLFOLJ_DEMO=1 for the demo).")
    SECRET_KEY = "demo-only-not-secret-" + "x" * 40
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "drf_spectacular",
    "djangosaml2",
    "fullfolj.access",
    "fullfolj.schools",
    "fullfolj.attendance",
    "fullfolj.notices",
    "fullfolj.ladder",
    "fullfolj.grades",
    "fullfolj.screening",
    "fullfolj.support",
    "fullfolj.compulsory",
    "fullfolj.handover",
    "fullfolj.bank",
    "fullfolj.kasam",
    "fullfolj.reports",
    "fullfolj.records",
    "fullfolj.simulation",
    "fullfolj.riskmodel",
    "fullfolj.exchange",
    "fullfolj.elevakt",
    "fullfolj.benchmarks",
    "fullfolj.jobs",
    "fullfolj.api",
]

MIDDLEWARE = [
    # /halsa/ answers before the host check and the HTTPS redirect: the container's health check
    # asks on its own address over plain HTTP (fullfolj/health.py).
    "fullfolj.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from the collected STATIC_ROOT, without a separate web server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside axes, so the lockout page it renders gets the policy and its nonce.
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The SAML login's own session (the request the IdP's answer must match).
    "fullfolj.access.middleware.SamlCookieMiddleware",
    # Swedish unless the user picked another language: not the browser's Accept-Language.
    "fullfolj.middleware.SwedishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session entered a second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "fullfolj.access.middleware.SessionIdleTimeoutMiddleware",
    "fullfolj.access.middleware.NoStoreForSignedInMiddleware",
    # A pupil's KASAM login reaches the questionnaire and nothing else.
    "fullfolj.kasam.middleware.PupilLoginMiddleware",
    # Last, as axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fullfolj.urls"
WSGI_APPLICATION = "fullfolj.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fullfolj.access.context.staff",
                "fullfolj.access.context.sign_on",
            ],
            # Swedish numbers and dates ({{ x|percent }}, {{ a|period:b }}) in every template.
            "builtins": ["fullfolj.lib.format_tags"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'demo.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A fresh checkout has no var/ yet; SQLite cannot create the directory itself.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the web server read while the worker writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Axes refuses locked-out logins first (the standalone backend: it only counts, StaffBackend
# already answers permissions); then ModelBackend, loading the staff record with the user.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "fullfolj.access.backends.StaffBackend",
    # The SAML login (docs/sign-on.md): only the IdP's verified answer reaches it.
    "fullfolj.access.saml.SamlBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password guessing: after FAILURE_LIMIT failed logins for one user name, or from one address,
# further logins (right password or not) are refused for the cool-off period, which each new
# try restarts. Either alone is not enough: one address can try many accounts, and many
# addresses one account. No reset on success: it would clear the address's failures too.
AXES_FAILURE_LIMIT = int(os.environ.get("FULLFOLJ_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("FULLFOLJ_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "fullfolj.access.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "fullfolj.access.backends.client_address"
# Behind N reverse proxies the client is the N-th address from the right of X-Forwarded-For;
# without this every login would count against the proxy's address.
FULLFOLJ_TRUSTED_PROXIES = int(os.environ.get("FULLFOLJ_TRUSTED_PROXIES", "0"))
LOGIN_URL = "login"
# Single sign-on: which of the identity provider's attributes names the staff record ("email"
# or "employee_number"), and whether the local password form is offered at all.
FULLFOLJ_SSO_MATCH = os.environ.get("FULLFOLJ_SSO_MATCH", "email")
FULLFOLJ_LOCAL_PASSWORDS = os.environ.get("FULLFOLJ_LOCAL_PASSWORDS", "1") != "0"
# The second factor (django-otp TOTP): the issuer name the authenticator app shows; after a wrong
# code the next try waits this many seconds, doubling with each further wrong code (django-otp's
# throttling); the admin never shows a device's key.
OTP_TOTP_ISSUER = os.environ.get("FULLFOLJ_OTP_ISSUER", "Fullfölj")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
LOGIN_REDIRECT_URL = "elevakt:home"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on: SAML 2 (docs/sign-on.md). Off until the identity provider's metadata is given,
# as a URL (ADFS, Azure AD and Shibboleth publish one) or a file. Fullfölj is the service
# provider at FULLFOLJ_SAML_BASE_URL; its metadata for the IdP is served at /saml2/metadata/.
FULLFOLJ_SAML_IDP_METADATA_URL = os.environ.get("FULLFOLJ_SAML_IDP_METADATA_URL", "")
FULLFOLJ_SAML_IDP_METADATA_FILE = os.environ.get("FULLFOLJ_SAML_IDP_METADATA_FILE", "")
FULLFOLJ_SAML = bool(FULLFOLJ_SAML_IDP_METADATA_URL or FULLFOLJ_SAML_IDP_METADATA_FILE)
FULLFOLJ_SAML_BASE_URL = os.environ.get("FULLFOLJ_SAML_BASE_URL", "")
FULLFOLJ_SAML_ENTITY_ID = os.environ.get("FULLFOLJ_SAML_ENTITY_ID", "")  # default: metadata URL
# Our own key pair: signs the login requests and decrypts encrypted assertions (optional).
FULLFOLJ_SAML_KEY_FILE = os.environ.get("FULLFOLJ_SAML_KEY_FILE", "")
FULLFOLJ_SAML_CERT_FILE = os.environ.get("FULLFOLJ_SAML_CERT_FILE", "")
# Which signature the IdP's answer must carry: "assertion" (ADFS, Azure AD), "response"
# (Shibboleth's default) or "both". An unsigned answer is always refused.
FULLFOLJ_SAML_SIGNED = os.environ.get("FULLFOLJ_SAML_SIGNED", "assertion")
# The IdP's attribute holding the value FULLFOLJ_SSO_MATCH compares ("mail", "employeeNumber",
# or a claim URI such as http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress).
FULLFOLJ_SAML_MATCH_ATTRIBUTE = os.environ.get("FULLFOLJ_SAML_MATCH_ATTRIBUTE", "mail")
# Authentication contexts that mean the person used a second factor at the IdP.
FULLFOLJ_SAML_MFA_CONTEXTS = env_list(
    "FULLFOLJ_SAML_MFA_CONTEXTS",
    "https://refeds.org/profile/mfa,http://id.elegnamnden.se/loa/1.0/loa3",
)
SAML_CONFIG_LOADER = "fullfolj.access.saml.sp_config"
SAML_DEFAULT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
SAML_CREATE_UNKNOWN_USER = False
# The IdP's answer is a cross-site POST: djangosaml2 keeps the pending request in a cookie of
# its own with SameSite=None so that POST carries it; ours stays Lax.
SAML_SESSION_COOKIE_NAME = "fullfolj_saml"
# Single sign-on: OpenID Connect (docs/sign-on.md). Off unless a client id and the provider's
# issuer (or its endpoints) are set. mozilla-django-oidc reads the OIDC_* names; the endpoints
# left empty are taken from the issuer's discovery document (fullfolj/access/oidc.py).
FULLFOLJ_OIDC_ISSUER = os.environ.get("FULLFOLJ_OIDC_ISSUER", "").rstrip("/")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("FULLFOLJ_OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("FULLFOLJ_OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("FULLFOLJ_OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("FULLFOLJ_OIDC_JWKS_ENDPOINT", "")
OIDC_RP_CLIENT_ID = os.environ.get("FULLFOLJ_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("FULLFOLJ_OIDC_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = os.environ.get("FULLFOLJ_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("FULLFOLJ_OIDC_SCOPES", "openid email")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10  # seconds for each call to the provider; it must not hang a worker
OIDC_AUTHENTICATION_CALLBACK_URL = "access:oidc-callback"
OIDC_STORE_ID_TOKEN = True  # the hint that logs the person out at the provider too
OIDC_CREATE_USER = False  # staff come from the school's register, never from a sign-on
# The claim whose value names the staff record (as FULLFOLJ_SSO_MATCH says: an e-mail address
# or an employee number), and what counts as a second factor: an `amr` method from the list,
# or an `acr` level from the list (e.g. a LoA 3 e-identification).
FULLFOLJ_OIDC_MATCH_CLAIM = os.environ.get("FULLFOLJ_OIDC_MATCH_CLAIM", "email")
FULLFOLJ_OIDC_MFA_AMR = env_list("FULLFOLJ_OIDC_MFA_AMR", "mfa,otp,hwk,sms")
FULLFOLJ_OIDC_MFA_ACR = env_list("FULLFOLJ_OIDC_MFA_ACR", "")
# A sign-on must come back from the provider within this many minutes of leaving for it.
FULLFOLJ_OIDC_STATE_MINUTES = int(os.environ.get("FULLFOLJ_OIDC_STATE_MINUTES", "10"))
FULLFOLJ_OIDC = bool(
    OIDC_RP_CLIENT_ID
    and (FULLFOLJ_OIDC_ISSUER or (OIDC_OP_AUTHORIZATION_ENDPOINT and OIDC_OP_TOKEN_ENDPOINT))
)
if FULLFOLJ_OIDC:
    AUTHENTICATION_BACKENDS.append("fullfolj.access.oidc.StaffOIDCBackend")

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", "Svenska"), ("en", "English")]
# Our catalogue for the templates and lib, and our overrides of Django's own texts (the apps'
# catalogues are found in each app).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "formats" / "locale"]
# Our own sv formats: "5 dec. 2026" in text, 2026-12-05 in tables and date fields (never the
# US order Django's sv locale also accepts).
FORMAT_MODULE_PATH = ["fullfolj.formats"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# `fullfolj collectstatic` writes here; the container image collects into the image itself.
STATIC_ROOT = Path(os.environ.get("FULLFOLJ_STATIC_ROOT", DATA_DIR / "static"))
if DEMO or DEBUG:
    # The demo and the tests serve the source folders as they are, nothing collected.
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
else:
    # Production serves the collected files under names that carry a hash of their content,
    # so browsers may keep them for a year; a missing file fails `collectstatic`, not a page.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# The demo prints mail; a production server that forgot to say sends it through EMAIL_HOST
# rather than silently dropping guardian notices.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEMO or DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "fullfolj@localhost")

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Guardian notices (Skollagen 7 kap. 17 §): sent N minutes after the day's last invalid lesson,
# or at a fixed time ("15:30"); at least GRACE minutes after any change, for corrections.
FULLFOLJ_NOTICE_DELAY_MINUTES = int(os.environ.get("FULLFOLJ_NOTICE_DELAY_MINUTES", "30"))
FULLFOLJ_NOTICE_SEND_AT = os.environ.get("FULLFOLJ_NOTICE_SEND_AT", "")
FULLFOLJ_NOTICE_GRACE_MINUTES = int(os.environ.get("FULLFOLJ_NOTICE_GRACE_MINUTES", "5"))
# A worker's claim on a notice lapses after this; keep it far above EMAIL_TIMEOUT.
FULLFOLJ_NOTICE_LEASE_SECONDS = int(os.environ.get("FULLFOLJ_NOTICE_LEASE_SECONDS", "300"))
FULLFOLJ_NOTICE_MAX_ATTEMPTS = 5
FULLFOLJ_NOTICE_BATCH = int(os.environ.get("FULLFOLJ_NOTICE_BATCH", "10"))  # claimed at once
# Guardians of protected-identity pupils: "send" (stripped message) or "hold" (mentor calls).
FULLFOLJ_NOTICE_PROTECTED_IDENTITY = os.environ.get("FULLFOLJ_NOTICE_PROTECTED_IDENTITY", "send")
EMAIL_TIMEOUT = 30
FULLFOLJ_SMS_BACKEND = os.environ.get(
    "FULLFOLJ_SMS_BACKEND", "fullfolj.notices.channels.ConsoleSMSBackend"
)
# The daily absence-ladder evaluation runs at this local time.
FULLFOLJ_LADDER_RUN_AT = os.environ.get("FULLFOLJ_LADDER_RUN_AT", "06:00")
FULLFOLJ_RETENTION_RUN_AT = os.environ.get("FULLFOLJ_RETENTION_RUN_AT", "03:00")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A session ends when the browser closes, or after a working day without a request: staff
# share computers in staff rooms. The age counts from the last request
# (access.middleware.SessionIdleTimeoutMiddleware, cheaper than SESSION_SAVE_EVERY_REQUEST).
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(9 * 60 * 60)))

# HTTPS, for production behind TLS (see the README). HSTS is sticky in browsers: set it once
# the site is known to work over HTTPS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# The header a TLS-terminating proxy sets, e.g. HTTP_X_FORWARDED_PROTO; it must be one that
# the proxy always overwrites, or clients could claim HTTPS.
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (os.environ["SECURE_PROXY_SSL_HEADER"], "https")

# Logging out sends the browser on to the identity provider's end-session page, and a browser
# holds a form's redirects to form-action too.
_sign_on_origins = [origin(FULLFOLJ_OIDC_ISSUER)] if FULLFOLJ_OIDC and FULLFOLJ_OIDC_ISSUER else []
# Content-Security-Policy: only our own files; an inline <style> only with the request's nonce
# (`nonce="{{ request.csp_nonce }}"`), and no style="" attributes. Scripts are files only (the
# pages have none inline; the admin's are static files).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF, *_sign_on_origins],
        "frame-ancestors": [NONE],
    }
}

# The date the product treats as today; the demo and tests may pin it (YYYY-MM-DD).
FULLFOLJ_TODAY = os.environ.get("FULLFOLJ_TODAY", "")
# Aggregates shown outside a school hide groups smaller than this (docs/privacy.md).
FULLFOLJ_MIN_GROUP_SIZE = 5

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}


# The REST API (docs/api.md): a staff member's token, or the signed-in session; JSON only.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "fullfolj.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fullfölj API",
    "DESCRIPTION": "Pupils, absence, screening flags, lesson registers and file imports, "
    "with the same access as the pages (docs/api.md).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
}
