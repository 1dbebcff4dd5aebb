"""``oscar_llm_demo_data`` outside a demo (issue 11, item 1): it refuses without DEBUG unless told,
never promotes an existing account and publishes no password outside the demo."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from oscar_llm.demo.shop import STAFF_EMAIL, STAFF_PASSWORD, DemoShopBuilder, DemoSummary
from oscar_llm.management.commands import oscar_llm_demo_data as command

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_build(monkeypatch, tmp_path):
    """The command without the (slow) demo shop: records what it was asked to build."""
    calls = []

    def build(seed, **kwargs):
        calls.append(kwargs)
        return DemoSummary(created={"staff": 1})

    monkeypatch.setattr(command, "create_demo_shop", build)
    monkeypatch.setattr(command, "write_seed_csv", lambda path: {"rows": 0, "intents": 0, "path": str(path)})
    return calls


def run(*args: str) -> str:
    out = StringIO()
    call_command("oscar_llm_demo_data", *args, "--support-seed", "/dev/null", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_refuses_without_debug(fake_build):
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="only with DEBUG on"):
        run()
    assert fake_build == []
    assert not get_user_model().objects.exists()


def test_with_the_flag_the_passwords_are_not_the_published_ones(fake_build):
    with override_settings(DEBUG=False):
        output = run("--not-a-demo-database-i-know")
    (kwargs,) = fake_build
    assert kwargs["staff_password"] != STAFF_PASSWORD and len(kwargs["staff_password"]) >= 20
    assert kwargs["customer_password"] is None
    assert STAFF_PASSWORD not in output and kwargs["staff_password"] in output


def test_the_demo_keeps_its_published_passwords(fake_build):
    with override_settings(DEBUG=True):
        output = run()
    assert fake_build[0]["staff_password"] == STAFF_PASSWORD
    assert STAFF_PASSWORD in output


@pytest.mark.parametrize("match", ["email", "username"])
def test_an_existing_account_is_never_promoted(django_user_model, match):
    existing = django_user_model.objects.create_user(
        username="staff" if match == "username" else "someone",
        email=STAFF_EMAIL if match == "email" else "someone@example.com",
        password="their-own",
    )
    builder = DemoShopBuilder()
    user = builder.ensure_staff_user()
    existing.refresh_from_db()
    assert user.pk == existing.pk
    assert not existing.is_staff and not existing.is_superuser
    assert existing.check_password("their-own")
    assert builder.staff_left_alone and not builder.created["staff"]


def test_a_new_staff_account_without_a_password_cannot_log_in(django_user_model):
    user = DemoShopBuilder(staff_password=None).ensure_staff_user()
    assert user.is_superuser and not user.has_usable_password()
