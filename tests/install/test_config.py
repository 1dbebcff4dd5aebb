"""``oscar_llm.config``: what the README's settings lines add to a shop's own settings."""

from __future__ import annotations

import pytest

from oscar_llm import config

SHOP_APPS = ["django.contrib.auth", "oscar.config.Shop", "oscar.apps.catalogue.apps.CatalogueConfig", "haystack"]


def test_the_plugins_apps_go_right_before_oscar_and_drf_at_the_end():
    assert config.installed_apps(SHOP_APPS) == [
        "django.contrib.auth",
        "oscar_llm.apps.OscarLLMConfig",
        "oscar_llm.dashboard.apps.LLMDashboardConfig",
        "oscar.config.Shop",
        "oscar.apps.catalogue.apps.CatalogueConfig",
        "haystack",
        "rest_framework",
        "drf_spectacular",
    ]


def test_applied_twice_or_to_apps_listed_wrongly_it_gives_the_same_list():
    once = config.installed_apps(SHOP_APPS)
    assert config.installed_apps(once) == once
    listed_after_oscar = [*SHOP_APPS, "oscar_llm", "rest_framework"]
    assert config.installed_apps(listed_after_oscar) == once


def test_a_settings_module_without_oscar_is_told_so():
    with pytest.raises(ValueError, match="no 'oscar.config.Shop'"):
        config.installed_apps(["django.contrib.auth"])


def test_the_dashboard_menu_is_added_once():
    oscar_menu = [{"label": "Dashboard", "icon": "fas fa-list", "url_name": "dashboard:index"}]
    once = config.dashboard_navigation(oscar_menu)
    assert once == oscar_menu + config.DASHBOARD_NAVIGATION
    assert config.dashboard_navigation(once) == once


def test_the_shops_own_beat_entries_and_drf_settings_win():
    mine = {"oscar-llm-sweep": {"task": "oscar_llm.tasks.sweep_jobs", "schedule": 30.0}}
    schedule = config.beat_schedule(mine)
    assert schedule["oscar-llm-sweep"]["schedule"] == 30.0
    assert set(schedule) == set(config.CELERY_BEAT_SCHEDULE)
    assert config.beat_schedule(None) == config.CELERY_BEAT_SCHEDULE
    assert config.rest_framework({"DEFAULT_SCHEMA_CLASS": "mine.Schema"}) == {"DEFAULT_SCHEMA_CLASS": "mine.Schema"}
    assert config.rest_framework(None) == {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
