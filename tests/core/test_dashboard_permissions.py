"""Every dashboard page of the plugin needs a permission beyond ``is_staff`` (issue 11, item 2).

The URL patterns are read from the dashboard app itself, so a new page that is not in
``permissions_map`` fails here before it ships.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.urls import reverse

from oscar_llm import permissions

pytestmark = pytest.mark.django_db

PERMISSION_OF_RULE = {
    id(permissions.REVIEW_COPY): permissions.REVIEW_COPY_PERM,
    id(permissions.ANSWER_TICKETS): permissions.ANSWER_TICKETS_PERM,
    id(permissions.EDIT_KNOWLEDGE): permissions.EDIT_KNOWLEDGE_PERM,
    id(permissions.VIEW_JOBS): permissions.VIEW_JOBS_PERM,
    id(permissions.RUN_JOBS): permissions.RUN_JOBS_PERM,
    id(permissions.VIEW_RECOMMENDATION_STATS): permissions.VIEW_RECOMMENDATION_STATS_PERM,
    id(permissions.VIEW_EXPERIMENTS): permissions.VIEW_EXPERIMENTS_PERM,
    id(permissions.RUN_EXPERIMENTS): permissions.RUN_EXPERIMENTS_PERM,
    id(permissions.ANSWER_QUESTIONS): permissions.ANSWER_QUESTIONS_PERM,
    id(permissions.MANAGE_CAMPAIGNS): permissions.MANAGE_CAMPAIGNS_PERM,
}


def dashboard_pages() -> list[tuple[str, str]]:
    """(url name, path) of every page of the plugin's dashboard, with made-up ids."""
    config = apps.get_app_config("oscar_llm_dashboard")
    pages = []
    for pattern in config.get_urls():
        kwargs = {name: 999999 for name in re.findall(r"<int:(\w+)>", str(pattern.pattern))}
        pages.append((pattern.name, reverse(f"oscar_llm_dashboard:{pattern.name}", kwargs=kwargs)))
    return pages


PAGES = dashboard_pages()


def test_there_are_pages_to_check():
    assert len(PAGES) >= 20


@pytest.mark.parametrize("name", [name for name, _ in PAGES])
def test_every_page_names_a_rule_narrower_than_staff(name):
    config = apps.get_app_config("oscar_llm_dashboard")
    rule = config.permissions_map.get(name)
    assert rule is not None, f"dashboard URL {name!r} has no entry in permissions_map"
    assert rule != permissions.STAFF and id(rule) in PERMISSION_OF_RULE, f"{name!r}: is_staff alone must not do"


@pytest.fixture
def clerk(django_user_model):
    return django_user_model.objects.create_user(
        username="clerk", email="clerk@example.com", password="x", is_staff=True
    )


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_staff_without_permissions_get_403_on_every_page(client, clerk, name, path):
    client.force_login(clerk)
    assert client.get(path).status_code == 403, name
    assert client.post(path, {"title": "x", "slug": "x", "body": "x"}).status_code == 403, name


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_customers_and_visitors_are_sent_to_log_in(client, customer, name, path):
    response = client.get(path)
    assert response.status_code == 302 and "login" in response["Location"], name
    client.force_login(customer)
    response = client.get(path)
    assert response.status_code in (302, 403), name


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_the_mapped_permission_lets_a_staff_member_in(client, clerk, django_user_model, name, path):
    rule = apps.get_app_config("oscar_llm_dashboard").permissions_map[name]
    app_label, codename = PERMISSION_OF_RULE[id(rule)].split(".")
    clerk.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client.force_login(django_user_model.objects.get(pk=clerk.pk))
    # Past the permission check: the page, a redirect, a 404 for the made-up id or a 405 for a POST-only URL.
    assert client.get(path).status_code != 403, name


def test_knowledge_base_is_closed_to_support_staff_without_the_policy_permission(client, clerk):
    clerk.user_permissions.add(Permission.objects.get(codename="answer_ticket"))
    client.force_login(clerk)
    assert client.get(reverse("oscar_llm_dashboard:support-queue")).status_code == 200
    assert client.get(reverse("oscar_llm_dashboard:support-article-list")).status_code == 403
    response = client.post(
        reverse("oscar_llm_dashboard:support-article-create"),
        {"title": "Refunds", "slug": "refunds", "body": "We refund everything, always.", "active": "on"},
    )
    assert response.status_code == 403
