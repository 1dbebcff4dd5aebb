"""Settings for the demo Oscar shop that runs the oscar_llm plugin.

SQLite and an embedded (filesystem) Celery broker by default; set
``DATABASE_URL`` for PostgreSQL and ``CELERY_BROKER_URL`` for Redis.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from oscar.defaults import *  # noqa: F403

from oscar_llm import config as oscar_llm_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OSCAR_LLM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None or value == "" else value.strip().lower() in ("1", "true", "yes", "on")


# Production unless asked: DEBUG pages show tracebacks with customer messages in them, so they are
# only on with DJANGO_DEBUG=1 (bin/demo sets it; the test run sets its own).
DEBUG = _env_flag("DJANGO_DEBUG")
_TESTING = "pytest" in sys.modules
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or _TESTING):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value (python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'), or set DJANGO_DEBUG=1 for a local demo."
        )
    SECRET_KEY = "demo-only-not-secret-change-me"  # noqa: S105 (debug and tests only)
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# HTTPS. On by default outside debug (a shop behind TLS); DJANGO_SECURE=0 turns it off for a plain-HTTP
# staging box. Behind a TLS-terminating proxy set DJANGO_SECURE_PROXY_SSL_HEADER=1 as well (the proxy must
# set X-Forwarded-Proto and strip it from clients).
SECURE = _env_flag("DJANGO_SECURE", default=not (DEBUG or _TESTING))
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365) if SECURE else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=SECURE)
SECURE_HSTS_PRELOAD = _env_flag("DJANGO_HSTS_PRELOAD", default=SECURE)
if _env_flag("DJANGO_SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# How many reverse proxies in front of the shop append to X-Forwarded-For. 0 (the default) keys every
# per-client limit on the connection's address, so a client cannot choose its own key by sending the
# header; set it to the number of proxies you run (1 behind one nginx or load balancer).
NUM_PROXIES = int(os.environ.get("DJANGO_NUM_PROXIES", "0"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "oscar.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "oscar.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "oscar.apps.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "oscar.apps.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "oscar.apps.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "haystack",
    "treebeard",
    "sorl.thumbnail",
    "django_tables2",
]
# The plugin, as the README tells a shop: its apps go before Oscar's so its templates (which
# extend Oscar's) and receivers win; DRF is added at the end.
INSTALLED_APPS = oscar_llm_config.installed_apps(INSTALLED_APPS)

SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
    # Last, so every other middleware's process_view has run: pages ride out a database restart.
    "oscar_llm.middleware.DatabaseRestartMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The shop's own template overrides (none in the demo). The plugin's overrides of Oscar's
        # templates come with its app, listed before Oscar's; a shop's own extend them.
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        # A persistent connection broken by a database restart is replaced, not handed to a request.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Worker and web process share the file; wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
    # A file (not :memory:) so a real Celery worker in the tests sees the test data.
    # OSCAR_LLM_TEST_DB lets two test runs share a checkout without sharing a database.
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("OSCAR_LLM_TEST_DB", str(VAR_DIR / "test_db.sqlite3"))}

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

AUTHENTICATION_BACKENDS = (
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)

# Oscar's catalogue browsing and search go through haystack; Whoosh is a pure-Python index
# on disk (the simple backend cannot browse). The test run keeps its own index. The index is
# refreshed by `manage.py update_index` (bin/demo) and a Celery beat task, not on every save.
_SEARCH_INDEX = "test_whoosh_index" if "pytest" in sys.modules else "whoosh_index"
HAYSTACK_CONNECTIONS = {
    "default": {
        "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
        "PATH": os.environ.get("OSCAR_LLM_SEARCH_INDEX", str(VAR_DIR / _SEARCH_INDEX)),
        "INCLUDE_SPELLING": True,
    }
}
HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.BaseSignalProcessor"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["CACHE_URL"],
    }
    if os.environ.get("CACHE_URL")
    # Django's default of 300 entries is less than a few dozen product pages keep (copy, blocks,
    # lists): evicted entries would be worked out again on every page.
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 50_000}}
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"

# The console backend writes every email (a support reply: name and body) into the logs, so it is the
# default only in debug; in production mail goes over SMTP (EMAIL_HOST, ...) unless EMAIL_BACKEND says so.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_flag("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "webmaster@localhost")
# Where the file backend (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend) writes messages.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))

LOGIN_REDIRECT_URL = "/"

OSCAR_SHOP_NAME = "Alder & Finch"
OSCAR_SHOP_TAGLINE = "demo shop for oscar_llm"
OSCAR_DEFAULT_CURRENCY = "GBP"
OSCAR_ALLOW_ANON_CHECKOUT = True
OSCAR_INITIAL_ORDER_STATUS = "Pending"
OSCAR_INITIAL_LINE_STATUS = "Pending"
OSCAR_ORDER_STATUS_PIPELINE = {
    "Pending": ("Shipped", "Cancelled"),
    "Shipped": ("Delivered",),
    "Delivered": (),
    "Cancelled": (),
}
OSCAR_DASHBOARD_NAVIGATION = oscar_llm_config.dashboard_navigation(OSCAR_DASHBOARD_NAVIGATION)

# The plugin. Every key is optional; see oscar_llm/settings.py for the defaults.
OSCAR_LLM = {
    "MODEL_DIR": os.environ.get("OSCAR_LLM_MODEL_DIR", str(VAR_DIR / "shop_model")),
    "NUM_PROXIES": NUM_PROXIES,
}
if os.environ.get("OSCAR_LLM_OPENAI_BASE_URL"):
    OSCAR_LLM["GENERATOR"] = "oscar_llm.llm.openai_backend.OpenAICompatibleGenerator"
    OSCAR_LLM["OPENAI"] = {
        "base_url": os.environ["OSCAR_LLM_OPENAI_BASE_URL"],
        "api_key": os.environ.get("OSCAR_LLM_OPENAI_API_KEY", ""),
        "model": os.environ.get("OSCAR_LLM_OPENAI_MODEL", ""),
    }
    if os.environ.get("OSCAR_LLM_OPENAI_CONCURRENCY"):
        OSCAR_LLM["OPENAI"]["concurrency"] = int(os.environ["OSCAR_LLM_OPENAI_CONCURRENCY"])
if os.environ.get("OSCAR_LLM_MODEL"):
    OSCAR_LLM["MODEL"] = os.environ["OSCAR_LLM_MODEL"]
# Campaign sending: emails a minute over all workers, and after how long a dead worker's claim is taken over.
OSCAR_LLM["MARKETING"] = {
    "SEND_RATE_PER_MINUTE": int(os.environ.get("OSCAR_LLM_SEND_RATE_PER_MINUTE", "600")),
    "CLAIM_TIMEOUT_SECONDS": int(os.environ.get("OSCAR_LLM_SEND_CLAIM_TIMEOUT", "600")),
}
# Job family -> Celery queue, e.g. "text=llm-text,embeddings=llm-small,fits=llm-small,email=llm-small"
# (README, "Many workers, one shop"); unset: every job on Celery's default queue.
if os.environ.get("OSCAR_LLM_QUEUES"):
    OSCAR_LLM["QUEUES"] = dict(
        pair.strip().split("=", 1) for pair in os.environ["OSCAR_LLM_QUEUES"].split(",") if "=" in pair
    )

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Sessions only: Basic authentication would take a password on every request with no throttle on
    # failed attempts. A shop that wants API clients adds token authentication of its own.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_THROTTLE_RATES": {"oscar_llm_public": "120/min"},
    "NUM_PROXIES": NUM_PROXIES,
}
REST_FRAMEWORK = oscar_llm_config.rest_framework(globals().get("REST_FRAMEWORK"))
SPECTACULAR_SETTINGS = {
    "TITLE": "oscar_llm API",
    "DESCRIPTION": "Generated product copy, drafts and jobs of the oscar_llm plugin.",
    "VERSION": "0.1.0",
    # One name per choice set, so the schema (and `check --deploy`) has no colliding enum names.
    "ENUM_NAME_OVERRIDES": {
        "ContentKindEnum": "oscar_llm.models.content.ContentKind",
        "ContentDraftStatusEnum": "oscar_llm.models.content.ContentDraft.Status",
        "JobStatusEnum": "oscar_llm.models.core.Job.Status",
        "TicketStatusEnum": "oscar_llm.models.support.Ticket.Status",
        "MessageKindEnum": "oscar_llm.models.support.Message.Kind",
        "ReplyDraftStatusEnum": "oscar_llm.models.support.ReplyDraft.Status",
    },
}

# Celery: an embedded filesystem broker unless CELERY_BROKER_URL is set.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER") == "1"
CELERY_BEAT_SCHEDULE = {
    "shop-search-index": {"task": "shop.celery.update_search_index", "schedule": 300.0},
}
CELERY_BEAT_SCHEDULE = oscar_llm_config.beat_schedule(globals().get("CELERY_BEAT_SCHEDULE"))
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"oscar_llm": {"handlers": ["console"], "level": os.environ.get("OSCAR_LLM_LOG_LEVEL", "INFO")}},
}
