"""System checks that tell a shop, at start-up, what its installation of the plugin misses.

In this process (the example shop) the checks are run the way ``manage.py check`` runs them, with
one setting changed at a time. What needs another process (the app order, an app left out, no
Celery app at all) is checked on a freshly made shop in ``test_second_shop.py``.
"""

from __future__ import annotations

import itertools
from types import ModuleType

import pytest
from django.apps import apps
from django.core.checks import Error, Warning, run_checks
from django.urls import include, path, re_path
from django.views.generic import TemplateView

from oscar_llm import checks, config

URLS_FIX = 'path("", include("oscar_llm.urls")),'


def plugin_messages(**kwargs) -> list:
    return [m for m in run_checks(**kwargs) if (m.id or "").startswith("oscar_llm.")]


_names = itertools.count()


def urlconf(*patterns) -> ModuleType:
    """A URLconf module, as Django reads one (its ``urlpatterns``)."""
    module = ModuleType(f"test_urlconf_{next(_names)}")
    module.urlpatterns = list(patterns)
    return module


def oscar_urls():
    return path("", include(apps.get_app_config("oscar").urls[0]))


def test_the_example_shop_passes_every_check():
    assert plugin_messages(include_deployment_checks=False) == []


def test_a_urlconf_without_the_plugin_is_an_error_naming_the_line_to_add(settings):
    settings.ROOT_URLCONF = urlconf(oscar_urls())

    messages = {m.id: m for m in plugin_messages()}

    assert set(messages) == {"oscar_llm.E003", "oscar_llm.E005"}
    missing = messages["oscar_llm.E003"]
    assert isinstance(missing, Error)
    assert "'oscar_llm_dashboard:draft-list' does not reverse" in missing.msg
    assert "'oscar_llm_api:schema' does not reverse" in missing.msg
    assert "'oscar_llm-support-list' does not reverse" in missing.msg
    assert URLS_FIX in missing.hint and "before Oscar's own URLs" in missing.hint
    # The navigation the README asks for names the dashboard's namespace: the same fix.
    navigation = messages["oscar_llm.E005"]
    assert "'Product copy review' ('oscar_llm_dashboard:draft-list')" in navigation.msg
    assert "NoReverseMatch" in navigation.msg
    assert URLS_FIX in navigation.hint


def test_the_dashboard_included_without_its_namespace_is_reported(settings):
    """The README's old include (``urls[0]``): the pages exist, but under no namespace."""
    dashboard = apps.get_app_config(config.DASHBOARD_NAMESPACE)
    settings.ROOT_URLCONF = urlconf(
        path("dashboard/llm/", include(dashboard.urls[0])),
        path("api/llm/", include("oscar_llm.api.urls")),
        path("", include(apps.get_app_config("oscar_llm").urls[0])),
        oscar_urls(),
    )

    [missing, navigation] = plugin_messages()

    assert missing.id == "oscar_llm.E003"
    assert "'oscar_llm_dashboard:draft-list' does not reverse" in missing.msg
    assert "oscar_llm_api" not in missing.msg and "support" not in missing.msg
    assert navigation.id == "oscar_llm.E005"


def test_a_pattern_that_hides_the_plugins_pages_is_reported(settings):
    catch_all = re_path(r"^(?P<slug>.*)$", TemplateView.as_view(template_name="x.html"), name="cms-page")
    settings.ROOT_URLCONF = urlconf(catch_all, path("", include("oscar_llm.urls")), oscar_urls())

    [hidden] = plugin_messages()

    assert hidden.id == "oscar_llm.E004"
    assert "/dashboard/llm/ reaches cms-page, not 'oscar_llm_dashboard:draft-list'" in hidden.msg
    assert "/accounts/support/ reaches cms-page" in hidden.msg
    assert URLS_FIX in hidden.hint


def test_a_navigation_entry_of_the_shop_that_does_not_reverse_is_reported(settings):
    settings.OSCAR_DASHBOARD_NAVIGATION = [
        *settings.OSCAR_DASHBOARD_NAVIGATION,
        {"label": "Gift cards", "url_name": "giftcards:list"},
    ]

    [broken] = plugin_messages()

    assert broken.id == "oscar_llm.E005"
    assert "'Gift cards' ('giftcards:list')" in broken.msg
    assert broken.hint == "Fix or remove these entries."


def test_a_navigation_without_the_plugins_menu_is_a_warning(settings):
    settings.OSCAR_DASHBOARD_NAVIGATION = [
        entry for entry in settings.OSCAR_DASHBOARD_NAVIGATION if entry.get("icon") != "fas fa-robot"
    ]

    [warning] = plugin_messages()

    assert isinstance(warning, Warning) and warning.id == "oscar_llm.W006"
    assert "oscar_llm_config.dashboard_navigation(OSCAR_DASHBOARD_NAVIGATION)" in warning.hint


@pytest.fixture
def beat_schedule():
    """The beat schedule of the project's Celery app (what beat reads), restored afterwards."""
    from shop.celery import app

    saved = dict(app.conf.beat_schedule)
    yield app.conf.beat_schedule
    app.conf.beat_schedule = saved


def test_a_beat_schedule_without_the_sweep_is_an_error(beat_schedule):
    del beat_schedule["oscar-llm-sweep"]
    del beat_schedule["oscar-llm-segments"]

    [error] = plugin_messages()

    assert error.id == "oscar_llm.E008"
    assert "does not run oscar_llm.tasks.refresh_segments, oscar_llm.tasks.sweep_jobs" in error.msg
    assert "beat_schedule(" in error.hint


def test_beat_entries_are_found_by_task_not_by_name(beat_schedule):
    """A shop that wrote its own entries (own names, own intervals) for the plugin's tasks is fine."""
    for name in list(beat_schedule):
        if name.startswith("oscar-llm-"):
            entry = beat_schedule.pop(name)
            beat_schedule[f"mine-{name}"] = {**entry, "schedule": 120.0}

    assert plugin_messages() == []


def test_every_periodic_task_the_config_schedules_is_a_registered_task():
    from shop.celery import app

    app.loader.import_default_modules()
    for entry in config.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry


def test_a_model_dir_that_cannot_be_made_is_a_warning(settings, tmp_path):
    (tmp_path / "models").write_text("a file, not a folder")
    settings.OSCAR_LLM = {"MODEL_DIR": str(tmp_path / "models" / "shop_model")}

    [warning] = plugin_messages()

    assert isinstance(warning, Warning) and warning.id == "oscar_llm.W009"
    assert f"{tmp_path / 'models'} is not a folder" in warning.msg
    assert "OSCAR_LLM['MODEL_DIR']" in warning.hint


def test_a_model_dir_in_a_folder_where_no_file_can_be_made_is_a_warning(settings):
    # /proc refuses new files even to root, for whom every permission bit check passes.
    settings.OSCAR_LLM = {"MODEL_DIR": "/proc/oscar_llm/shop_model"}

    [warning] = plugin_messages()

    assert warning.id == "oscar_llm.W009"
    assert "no file can be made in /proc" in warning.msg


def test_a_model_dir_that_does_not_exist_yet_is_fine_when_its_parent_is_writable(settings, tmp_path):
    settings.OSCAR_LLM = {"MODEL_DIR": str(tmp_path / "var" / "shop_model")}

    assert plugin_messages() == []
    assert not (tmp_path / "var").exists()  # the check makes nothing


def test_a_schema_class_that_is_not_drf_spectaculars_is_a_warning(settings):
    settings.REST_FRAMEWORK = {k: v for k, v in settings.REST_FRAMEWORK.items() if k != "DEFAULT_SCHEMA_CLASS"}

    [warning] = plugin_messages()

    assert warning.id == "oscar_llm.W010"
    assert "is DRF default, not drf-spectacular's AutoSchema: /api/llm/schema/" in warning.msg
    assert "oscar_llm_config.rest_framework(" in warning.hint


def test_the_checks_are_registered_with_django():
    from django.core.checks.registry import registry

    registered = set(registry.get_checks())
    assert {
        checks.check_apps,
        checks.check_urls,
        checks.check_celery,
        checks.check_model_dir,
        checks.check_rest_framework,
    } <= registered
