"""Xueji settings: one file, read from XUEJI_* environment variables with safe defaults.

Every setting an operator may change is an environment variable documented in
docs/deploy.md. Nothing here needs editing for a deployment.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_noop

PACKAGE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The test suite (pytest sets PYTEST_VERSION) runs on an in-memory SQLite database, or on
# the PostgreSQL database named by XUEJI_TEST_DATABASE_URL, never on the real one.
TESTING = os.environ.get("PYTEST_VERSION") is not None
if TESTING:
    os.environ["XUEJI_DATABASE_URL"] = os.environ.get(
        "XUEJI_TEST_DATABASE_URL", "sqlite:///:memory:"
    )
    os.environ["XUEJI_DATA_DIR"] = str(Path(__file__).resolve().parents[2] / "var" / "test")
    os.environ["XUEJI_DEMO"] = "0"

# Where the database (SQLite), uploaded files and the generated secret key live.
DATA_DIR = Path(os.environ.get("XUEJI_DATA_DIR", Path.cwd() / "var")).resolve()
MEDIA_ROOT = Path(os.environ.get("XUEJI_MEDIA_DIR", DATA_DIR / "media")).resolve()
MEDIA_URL = "/media/"


def _secret_key() -> str:
    """Use XUEJI_SECRET_KEY, or a random key kept in the data directory.

    A random key that survives restarts is safer than any default string, and it means
    a fresh checkout runs without the operator having to invent one.
    """
    configured = os.environ.get("XUEJI_SECRET_KEY", "").strip()
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("XUEJI_DEBUG", False)
# Demo mode: the demo county's accounts keep their printed passwords.
DEMO_MODE = env_bool("XUEJI_DEMO", False)
ALLOWED_HOSTS = env_list("XUEJI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("XUEJI_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "xueji.audit",
    "xueji.orgs",
    "xueji.core",
    "xueji.students",
    "xueji.exchange",
    "xueji.changes",
    "xueji.intake",
    "xueji.reports",
    "xueji.packages",
    "xueji.stats",
    "xueji.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "xueji.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "xueji.core.middleware.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "xueji.core.middleware.PasswordChangeRequiredMiddleware",
]

ROOT_URLCONF = "xueji.urls"
WSGI_APPLICATION = "xueji.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xueji.core.context_processors.navigation",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------
# SQLite under the data directory by default; PostgreSQL in production by URL, e.g.
# XUEJI_DATABASE_URL=postgresql://xueji:secret@127.0.0.1:5432/xueji
_default_sqlite = f"sqlite:///{DATA_DIR / 'xueji.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("XUEJI_DATABASE_URL", _default_sqlite), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE makes every transaction take the write lock at its start, so two
        # writers queue instead of failing with "database is locked" half-way; WAL lets
        # readers go on while one writes. Together they make SQLite safe for the server
        # and the worker at once.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # mmap: a request reads the pages straight from the operating system's cache, not
        # through read() into each new connection's own empty cache (connections last one
        # request); the search box on 1,000,000 students went from 23 to 16 ms with it.
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
            "PRAGMA mmap_size=2147483648;PRAGMA temp_store=MEMORY;"
        ),
    }
    if DATABASES["default"]["NAME"] != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The statements every request makes (core/reads.py) bind their parameters on the
    # server and PostgreSQL keeps them prepared after their second use, so it parses and
    # plans them once a connection: a third of its CPU a request under load (issue 9).
    # The ORM's own queries bind in the client as before and are never prepared. Behind
    # a pooler that cannot keep prepared statements (PgBouncer in transaction mode before
    # 1.21), set XUEJI_PG_PREPARE_AFTER=0 (docs/deploy.md).
    _prepare_after = int(os.environ.get("XUEJI_PG_PREPARE_AFTER", "2"))
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = _prepare_after or None
if TESTING and DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # Use the named database itself as the test database (CI creates it).
    DATABASES["default"]["TEST"] = {"NAME": DATABASES["default"]["NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "orgs.User"

# --- Passwords and sessions ------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Five failed logins for an account or from an address lock it for fifteen minutes
# (xueji.core.lockout); the backend enforces it for every password login.
AUTHENTICATION_BACKENDS = ["xueji.core.lockout.LockoutBackend"]
XUEJI_LOGIN_MAX_FAILURES = int(os.environ.get("XUEJI_LOGIN_MAX_FAILURES", "5"))
XUEJI_LOGIN_LOCK_MINUTES = int(os.environ.get("XUEJI_LOGIN_LOCK_MINUTES", "15"))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Django's database sessions, read by a written-out statement (core/sessions.py).
SESSION_ENGINE = "xueji.core.sessions"
# Sessions end after 30 idle minutes: requests push the end forward, at most once a
# minute (core.middleware.IdleSessionMiddleware), so reading a page writes nothing.
SESSION_COOKIE_AGE = int(os.environ.get("XUEJI_SESSION_IDLE_SECONDS", "1800"))
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Behind TLS (a reverse proxy) -----------------------------------------------------
HTTPS = env_bool("XUEJI_HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_SSL_REDIRECT = env_bool("XUEJI_SSL_REDIRECT", True)
    # A monitor on the server itself polls /healthz over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Language and time ----------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("XUEJI_LANGUAGE", "zh-hans")
# Translators: each language is named in itself on the language switch; keep the name as it is.
LANGUAGES = [("zh-hans", gettext_noop("简体中文")), ("en", gettext_noop("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("XUEJI_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# --- Files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves straight from the apps' static folders, so `xueji serve` works on a
# fresh checkout without a collectstatic step; behind a proxy the operator may still
# collect them (docs/deploy.md).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Logging: errors to the console, where the service manager keeps them ------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("XUEJI_LOG_LEVEL", "WARNING")},
}

# --- Xueji rules that are configuration, not code -------------------------------------
# The reverse proxy whose X-Forwarded-* headers `xueji serve` believes (docs/deploy.md).
TRUSTED_PROXY = os.environ.get("XUEJI_TRUSTED_PROXY", "127.0.0.1")
# How long a background worker sleeps when there is no job.
XUEJI_WORKER_IDLE_SECONDS = float(os.environ.get("XUEJI_WORKER_IDLE_SECONDS", "1.0"))
# The largest spreadsheet an import accepts (issue 3, B2): 100,000 rows fit in far less.
XUEJI_IMPORT_MAX_BYTES = int(os.environ.get("XUEJI_IMPORT_MAX_MB", "50")) * 1024 * 1024
# An import of at least this many rows is read and validated in a second process while
# the first writes (exchange/readahead.py); smaller files are read in the process itself.
XUEJI_IMPORT_READ_AHEAD_ROWS = int(os.environ.get("XUEJI_IMPORT_READ_AHEAD_ROWS", "5000"))

# --- Printed papers (B4) ---------------------------------------------------------------
# The address people reach Xueji at: printed QR codes and codes point to {this}/verify/.
XUEJI_PUBLIC_URL = os.environ.get("XUEJI_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# A TrueType CJK font (.ttf/.ttc) to embed in PDFs. Empty: the first that exists of the
# usual Debian and Windows fonts (WenQuanYi Zen Hei, SimSun, ...; see
# xueji.reports.fonts.BODY_FONT_CANDIDATES). Without one, ReportLab's built-in STSong-Light
# still prints every character of the basic plane.
XUEJI_PDF_FONT = os.environ.get("XUEJI_PDF_FONT", "")
# A font for rare characters outside the basic plane (Debian's fonts-hanazono HanaMinB.ttf,
# Windows' simsunb.ttf). Empty: whichever of those exists. Without one such characters
# print as "□" and the paper names them in a notice.
XUEJI_PDF_EXTB_FONT = os.environ.get("XUEJI_PDF_EXTB_FONT", "")

# Private signing keys of the units that export change packages here (B6, C8). Kept out of
# MEDIA_ROOT so no URL can ever serve them; backups include them (docs/deploy.md).
XUEJI_KEY_DIR = Path(os.environ.get("XUEJI_KEY_DIR", DATA_DIR / "keys")).resolve()
XUEJI_PACKAGE_MAX_BYTES = int(os.environ.get("XUEJI_PACKAGE_MAX_MB", "200")) * 1024 * 1024
