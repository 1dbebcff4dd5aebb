"""What a shop's settings need for oscar_llm, in one place.

The README's "Adding oscar_llm to an existing Oscar shop" shows the lines that use this module,
and the example shop (``shop/settings.py``) is written with the same lines, so the two cannot drift
apart (``tests/install/test_readme.py`` checks it). It is imported by a settings module, before
Django is set up: it imports nothing from Django but ``gettext_lazy`` (as ``oscar.defaults`` does)
and nothing else of the plugin.

``oscar_llm.checks`` reports at start-up what a shop's settings miss of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

#: Oscar's app config in ``INSTALLED_APPS``; the plugin's apps go right before it, so the plugin's
#: templates (``oscar/catalogue/detail.html`` ...) are found before Oscar's and extend them.
OSCAR_SHOP_APP = "oscar.config.Shop"
PLUGIN_APP = "oscar_llm.apps.OscarLLMConfig"
DASHBOARD_APP = "oscar_llm.dashboard.apps.LLMDashboardConfig"
PLUGIN_APPS = (PLUGIN_APP, DASHBOARD_APP)
#: Third-party apps the plugin's API needs (its browsable pages and schema), added at the end.
THIRD_PARTY_APPS = ("rest_framework", "drf_spectacular")

#: The URL namespaces ``oscar_llm.urls`` registers.
DASHBOARD_NAMESPACE = "oscar_llm_dashboard"
API_NAMESPACE = "oscar_llm_api"

#: The plugin's entries of Oscar's dashboard menu (``OSCAR_DASHBOARD_NAVIGATION``).
DASHBOARD_NAVIGATION: list[dict[str, Any]] = [
    {
        "label": _("Language models"),
        "icon": "fas fa-robot",
        "children": [
            {"label": _("Product copy review"), "url_name": f"{DASHBOARD_NAMESPACE}:draft-list"},
            {"label": _("Jobs"), "url_name": f"{DASHBOARD_NAMESPACE}:job-list"},
            {"label": _("Support tickets"), "url_name": f"{DASHBOARD_NAMESPACE}:support-queue"},
            {"label": _("Knowledge base"), "url_name": f"{DASHBOARD_NAMESPACE}:support-article-list"},
            {"label": _("Support figures"), "url_name": f"{DASHBOARD_NAMESPACE}:support-figures"},
            {"label": _("Product questions"), "url_name": f"{DASHBOARD_NAMESPACE}:qa-queue"},
            {"label": _("Recommendation blocks"), "url_name": f"{DASHBOARD_NAMESPACE}:recommendation-stats"},
            {"label": _("Experiments"), "url_name": f"{DASHBOARD_NAMESPACE}:experiment-list"},
            {"label": _("Marketing campaigns"), "url_name": f"{DASHBOARD_NAMESPACE}:marketing-campaign-list"},
            {"label": _("Customer segments"), "url_name": f"{DASHBOARD_NAMESPACE}:marketing-segment-list"},
        ],
    }
]

#: The plugin's periodic Celery tasks (task names are kept from the first release, so a schedule
#: written by hand for an earlier version keeps working). Keys are the beat entries' names.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Re-sends jobs whose worker died or whose message was lost (docs/architecture.md, "Jobs").
    "oscar-llm-sweep": {"task": "oscar_llm.tasks.sweep_jobs", "schedule": 60.0},
    "oscar-llm-stale-content": {"task": "oscar_llm.tasks.refresh_stale_content", "schedule": 3600.0},
    "oscar-llm-segments": {"task": "oscar_llm.tasks.refresh_segments", "schedule": 600.0},
    "oscar-llm-rec-stats": {
        "task": "oscar_llm.recommendations.tracking.flush_recommendation_stats",
        "schedule": 60.0,
    },
    "oscar-llm-recommendations-fit": {"task": "oscar_llm.tasks.refit_recommendations", "schedule": 3600.0},
    "oscar-llm-purge-interactions": {"task": "oscar_llm.tasks.purge_old_interactions", "schedule": 86400.0},
    "oscar-llm-purge-tickets": {"task": "oscar_llm.tasks.purge_old_tickets", "schedule": 86400.0},
    "oscar-llm-experiment-exposures": {"task": "oscar_llm.experiments.flush_exposures", "schedule": 60.0},
    "oscar-llm-experiment-bandits": {"task": "oscar_llm.experiments.update_bandits", "schedule": 600.0},
    "oscar-llm-marketing-profiles": {"task": "oscar_llm.tasks.marketing_profiles", "schedule": 86400.0},
}


def _app_name(entry: str) -> str:
    return entry.rsplit(".apps.", 1)[0] if ".apps." in entry else entry


def installed_apps(apps: Iterable[str]) -> list[str]:
    """``apps`` with the plugin's two apps right before ``oscar.config.Shop`` and DRF at the end.

    Entries already present (the plugin's, by app module or config path, or DRF's) are moved, not
    repeated, so applying it twice changes nothing.
    """
    apps = list(apps)
    if OSCAR_SHOP_APP not in apps:
        raise ValueError(
            f"INSTALLED_APPS has no {OSCAR_SHOP_APP!r}: add oscar_llm to an Oscar shop's settings, "
            "after its INSTALLED_APPS are written."
        )
    plugin_names = {_app_name(app) for app in PLUGIN_APPS}
    apps = [app for app in apps if _app_name(app) not in plugin_names]
    at = apps.index(OSCAR_SHOP_APP)
    apps[at:at] = PLUGIN_APPS
    return apps + [app for app in THIRD_PARTY_APPS if app not in apps]


def dashboard_navigation(navigation: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Oscar's dashboard menu ``navigation`` with the plugin's "Language models" menu at the end (once)."""
    navigation = list(navigation)
    if any(_url_names(entry) & _url_names(DASHBOARD_NAVIGATION[0]) for entry in navigation):
        return navigation
    return navigation + DASHBOARD_NAVIGATION


def beat_schedule(schedule: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The shop's own beat ``schedule`` (if any) with the plugin's periodic tasks added."""
    return {**CELERY_BEAT_SCHEDULE, **(schedule or {})}


#: drf-spectacular's schema class: ``/api/llm/schema/`` describes the plugin's API with it, and the
#: ``@extend_schema`` annotations of the plugin's views build on the class set when they are imported.
SCHEMA_CLASS = "drf_spectacular.openapi.AutoSchema"


def rest_framework(rest_framework: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The shop's ``REST_FRAMEWORK`` (if any) with drf-spectacular's schema class unless it names its own."""
    return {"DEFAULT_SCHEMA_CLASS": SCHEMA_CLASS, **(rest_framework or {})}


def _url_names(entry: Mapping[str, Any]) -> set[str]:
    names = {entry["url_name"]} if entry.get("url_name") else set()
    for child in entry.get("children", ()):
        names |= _url_names(child)
    return names


def navigation_url_names(navigation: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every ``url_name`` in a dashboard menu, children included."""
    names: set[str] = set()
    for entry in navigation:
        names |= _url_names(entry)
    return names
