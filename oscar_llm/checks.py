"""System checks: a shop that installed the plugin wrongly is told at start-up, with the fix.

Each message names what is wrong and the line of the README ("Adding oscar_llm to an existing Oscar
shop") that puts it right, so a misconfiguration shows up in ``manage.py check`` (and before
``runserver`` serves a page), never as a ``NoReverseMatch`` on a customer's page. Registered by
``OscarLLMConfig.ready()``.

| id | level | what |
| --- | --- | --- |
| ``oscar_llm.E001`` | error | the plugin's app is listed after ``oscar.config.Shop`` |
| ``oscar_llm.E002`` | error | an app the plugin needs is not installed (its dashboard app, DRF) |
| ``oscar_llm.E003`` | error | the URLconf lacks the plugin's URLs (a namespace, the storefront pages) |
| ``oscar_llm.E004`` | error | earlier URL patterns hide one of the plugin's pages |
| ``oscar_llm.E005`` | error | a dashboard navigation entry does not reverse (every dashboard page would fail) |
| ``oscar_llm.W006`` | warning | the dashboard navigation has no entry for the plugin's pages |
| ``oscar_llm.E007`` | error | no Celery app is loaded in this process |
| ``oscar_llm.E008`` | error | the Celery beat schedule misses some of the plugin's periodic tasks |
| ``oscar_llm.W009`` | warning | ``OSCAR_LLM["MODEL_DIR"]`` cannot be written by this process |
| ``oscar_llm.W010`` | warning | DRF's schema class is not drf-spectacular's (``/api/llm/schema/`` would fail) |
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks

from . import config

README = 'README, "Adding oscar_llm to an existing Oscar shop"'
INSTALLED_APPS_FIX = "INSTALLED_APPS = oscar_llm_config.installed_apps(INSTALLED_APPS)"
URLS_FIX = 'path("", include("oscar_llm.urls")),'
NAVIGATION_FIX = "OSCAR_DASHBOARD_NAVIGATION = oscar_llm_config.dashboard_navigation(OSCAR_DASHBOARD_NAVIGATION)"
REST_FRAMEWORK_FIX = 'REST_FRAMEWORK = oscar_llm_config.rest_framework(globals().get("REST_FRAMEWORK"))'
BEAT_FIX = 'CELERY_BEAT_SCHEDULE = oscar_llm_config.beat_schedule(globals().get("CELERY_BEAT_SCHEDULE"))'

#: One page of each kind that ``oscar_llm.urls`` adds: (URL name, what it is).
PLUGIN_PAGES = (
    (f"{config.DASHBOARD_NAMESPACE}:draft-list", f"the dashboard (namespace {config.DASHBOARD_NAMESPACE!r})"),
    (f"{config.API_NAMESPACE}:schema", f"the API (namespace {config.API_NAMESPACE!r})"),
    ("oscar_llm-support-list", "the customer's support pages"),
)

REQUIRED_APPS = {
    config.DASHBOARD_NAMESPACE: config.DASHBOARD_APP,
    "rest_framework": "rest_framework",
}


def register() -> None:
    checks.register(check_apps)
    checks.register(check_urls, checks.Tags.urls)
    checks.register(check_celery)
    checks.register(check_model_dir)
    checks.register(check_rest_framework)


def check_apps(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The plugin's app before Oscar's (its templates extend Oscar's), and the apps it needs."""
    messages: list[checks.CheckMessage] = []
    labels = [app.label for app in apps.get_app_configs()]
    if "oscar" in labels and labels.index("oscar_llm") > labels.index("oscar"):
        messages.append(
            checks.Error(
                "oscar_llm is listed after oscar.config.Shop in INSTALLED_APPS, so Oscar's templates hide the "
                "plugin's: product pages show no generated copy and no recommendation blocks.",
                hint=f"Put {config.PLUGIN_APP!r} before {config.OSCAR_SHOP_APP!r}, as the {README} does with "
                f"`{INSTALLED_APPS_FIX}`.",
                id="oscar_llm.E001",
            )
        )
    for label, entry in REQUIRED_APPS.items():
        if label not in labels:
            messages.append(
                checks.Error(
                    f"{entry!r} is not in INSTALLED_APPS; oscar_llm needs it.",
                    hint=f"Add it, as the {README} does with `{INSTALLED_APPS_FIX}`.",
                    id="oscar_llm.E002",
                )
            )
    return messages


def check_urls(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The plugin's URLs are in the URLconf, under their namespaces, and not hidden by earlier patterns."""
    from django.urls import NoReverseMatch, Resolver404, resolve, reverse

    missing: list[str] = []
    hidden: list[str] = []
    for name, what in PLUGIN_PAGES:
        try:
            url = reverse(name)
        except NoReverseMatch:
            missing.append(f"{what} ({name!r} does not reverse)")
            continue
        try:
            found = resolve(url).view_name
        except Resolver404:
            found = None
        if found != name:
            hidden.append(f"{url} reaches {found or 'no view'}, not {name!r}")
    messages: list[checks.CheckMessage] = []
    if missing:
        messages.append(
            checks.Error(
                f"The URLconf ({settings.ROOT_URLCONF}) lacks oscar_llm's URLs: {'; '.join(missing)}.",
                hint=f"Add `{URLS_FIX}` to urlpatterns before Oscar's own URLs ({README}).",
                id="oscar_llm.E003",
            )
        )
    if hidden:
        messages.append(
            checks.Error(
                f"Earlier URL patterns hide oscar_llm's pages: {'; '.join(hidden)}.",
                hint=f"Put `{URLS_FIX}` before the patterns that match these URLs ({README}).",
                id="oscar_llm.E004",
            )
        )
    return messages + check_navigation()


def _menu_entries(navigation: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for entry in navigation:
        yield entry
        yield from _menu_entries(entry.get("children", ()))


def check_navigation() -> list[checks.CheckMessage]:
    """Every dashboard menu entry reverses (Oscar reverses them all on every dashboard page)."""
    from django.urls import NoReverseMatch, reverse

    navigation = getattr(settings, "OSCAR_DASHBOARD_NAVIGATION", None)
    if navigation is None:
        return []
    broken: list[str] = []
    for entry in _menu_entries(navigation):
        name = entry.get("url_name")
        if not name:
            continue
        try:
            reverse(name, args=entry.get("url_args"), kwargs=entry.get("url_kwargs"))
        except NoReverseMatch:
            broken.append(f"{str(entry.get('label'))!r} ({name!r})")
    messages: list[checks.CheckMessage] = []
    if broken:
        ours = any(f"'{config.DASHBOARD_NAMESPACE}:" in entry for entry in broken)
        messages.append(
            checks.Error(
                f"OSCAR_DASHBOARD_NAVIGATION has entries whose URL does not reverse: {', '.join(broken)}. "
                "Oscar reverses every entry on every dashboard page, so each would fail with NoReverseMatch.",
                hint=(
                    f"Add `{URLS_FIX}` to the URLconf before Oscar's URLs ({README})"
                    if ours
                    else "Fix or remove these entries"
                )
                + ".",
                id="oscar_llm.E005",
            )
        )
    if not config.navigation_url_names(navigation) & config.navigation_url_names(config.DASHBOARD_NAVIGATION):
        messages.append(
            checks.Warning(
                "The dashboard menu (OSCAR_DASHBOARD_NAVIGATION) has no entry for oscar_llm's pages: staff cannot "
                "find the review queue, the jobs or the support desk.",
                hint=f"Add `{NAVIGATION_FIX}` to the settings ({README}).",
                id="oscar_llm.W006",
            )
        )
    return messages


def _shop_celery_app() -> Any:
    """The Celery app the project created, or None.

    Celery's "current app" is per thread (checks may run in another thread than the one that imported
    the project), so this looks at every app created in the process; the fallback app Celery makes when
    none exists is created with ``set_as_current=False``, a project's app is not.
    """
    from celery import _state

    current = _state._tls.current_app
    if current is not None:
        return current
    candidates = [app for app in _state._get_active_apps() if app.set_as_current]
    return candidates[-1] if candidates else None


def check_celery(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A Celery app is loaded (the plugin's tasks are shared tasks) and beat runs the periodic ones."""
    app = _shop_celery_app()
    if app is None:
        return [
            checks.Error(
                "No Celery app is loaded: oscar_llm's jobs would be sent to Celery's default app "
                "(a broker at amqp://localhost) instead of the shop's.",
                hint="Create the project's Celery app (yourproject/celery.py) and import it in "
                f"yourproject/__init__.py, as Celery's Django guide and the {README} show.",
                id="oscar_llm.E007",
            )
        ]
    scheduled = {entry.get("task") for entry in (app.conf.beat_schedule or {}).values()}
    missing = sorted({entry["task"] for entry in config.CELERY_BEAT_SCHEDULE.values()} - scheduled)
    if missing:
        return [
            checks.Error(
                f"The Celery beat schedule of the app {app.main!r} does not run {', '.join(missing)}: without the "
                "sweep, jobs whose message was lost are never run; the others keep copy, segments and "
                "recommendations current.",
                hint=f"Add `{BEAT_FIX}` to the settings ({README}), or silence oscar_llm.E008 if another "
                "scheduler runs these tasks.",
                id="oscar_llm.E008",
            )
        ]
    return []


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_model_dir(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``MODEL_DIR`` (or the folder it will be made in) can be written: training saves the shop model there."""
    from .settings import llm_settings

    if not isinstance(getattr(settings, "OSCAR_LLM", {}) or {}, dict):
        return []  # oscar_llm.W001 says so
    model_dir = Path(llm_settings.MODEL_DIR).expanduser().absolute()
    existing = _nearest_existing(model_dir)
    if not existing.is_dir():
        reason = f"{existing} is not a folder"
    else:
        # Trying is the only sure test: os.access() says yes to root on a read-only mount.
        try:
            with tempfile.TemporaryFile(dir=existing):
                return []
        except OSError as exc:
            reason = f"no file can be made in {existing}: {exc.strerror or exc}"
    return [
        checks.Warning(
            f"OSCAR_LLM['MODEL_DIR'] ({model_dir}) cannot be written by this process ({reason}): "
            "oscar_llm_train cannot save the shop model there.",
            hint="Set OSCAR_LLM['MODEL_DIR'] (or the OSCAR_LLM_MODEL_DIR variable) to a folder the worker's user "
            "can write, e.g. /srv/shop/var/shop_model; on a web-only host, silence oscar_llm.W009.",
            id="oscar_llm.W009",
        )
    ]


def check_rest_framework(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """DRF's schema class is drf-spectacular's (or a subclass): the plugin's API schema is built with it."""
    from django.utils.module_loading import import_string
    from drf_spectacular.openapi import AutoSchema

    name = (getattr(settings, "REST_FRAMEWORK", None) or {}).get("DEFAULT_SCHEMA_CLASS")
    try:
        schema = import_string(name) if isinstance(name, str) else name
    except ImportError:
        schema = None
    if isinstance(schema, type) and issubclass(schema, AutoSchema):
        return []
    return [
        checks.Warning(
            f"REST_FRAMEWORK['DEFAULT_SCHEMA_CLASS'] is {name or 'DRF default'}, not drf-spectacular's AutoSchema: "
            "/api/llm/schema/ cannot describe oscar_llm's API and fails.",
            hint=f"Add `{REST_FRAMEWORK_FIX}` to the settings ({README}).",
            id="oscar_llm.W010",
        )
    ]
