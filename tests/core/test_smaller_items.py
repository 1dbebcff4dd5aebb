"""Issue 11, item 5: the auto-publish switch only where it does something, staff filters that answer
400 for a bad id, and how long the support desk keeps what customers wrote."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from oscar_llm.models import Feature, FeatureSwitch, Job, Message, ReplyDraft, Ticket
from oscar_llm.support import desk, kinds
from oscar_llm.support.retention import purge_old_tickets

pytestmark = pytest.mark.django_db


# --- auto-publish --------------------------------------------------------------------------------


def test_auto_publish_shows_only_for_product_copy_and_product_answers(client, staff_user):
    for feature in Feature.values:
        FeatureSwitch.set(feature, enabled=True)
    client.force_login(staff_user)
    changelist = client.get(reverse("admin:oscar_llm_featureswitch_changelist")).content.decode()
    assert "auto_publish" not in changelist.split("<tbody>")[1].split("</tbody>")[0].replace("auto_publish_state", "")
    for feature in Feature.values:
        row = FeatureSwitch.objects.get(feature=feature)
        form = client.get(reverse("admin:oscar_llm_featureswitch_change", args=[row.pk])).content.decode()
        assert ('name="auto_publish"' in form) == (feature in (Feature.PRODUCT_COPY, Feature.QA)), feature


def test_a_stored_auto_publish_does_nothing_for_support_replies():
    FeatureSwitch.objects.create(feature=Feature.SUPPORT, enabled=True, auto_publish=True)
    assert FeatureSwitch.auto_publishes(Feature.SUPPORT) is False
    FeatureSwitch.set(Feature.PRODUCT_COPY, enabled=True, auto_publish=True)
    assert FeatureSwitch.auto_publishes(Feature.PRODUCT_COPY) is True
    row = FeatureSwitch(feature=Feature.SUPPORT, auto_publish=True)
    with pytest.raises(Exception, match="nothing to publish"):
        row.clean()


# --- bad ids on staff endpoints ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/llm/support/drafts/?ticket=abc",
        "/api/llm/support/drafts/?ticket=99999999999999999999",
        "/api/llm/drafts/?product=abc",
        "/api/llm/drafts/?product=-1",
    ],
)
def test_bad_ids_in_staff_filters_are_400(client, staff_user, path):
    client.force_login(staff_user)
    response = client.get(path)
    assert response.status_code == 400, response.content
    assert response.json()


def test_good_ids_still_filter(client, staff_user, customer):
    ticket = desk.open_ticket(customer, "Sizes", "Is M a 12?")
    ReplyDraft.objects.create(ticket=ticket, text="Yes.", confidence=0.9)
    client.force_login(staff_user)
    assert client.get(f"/api/llm/support/drafts/?ticket={ticket.pk}").json()["count"] == 1
    assert client.get(f"/api/llm/support/drafts/?ticket={ticket.pk + 1}").json()["count"] == 0


# --- retention -------------------------------------------------------------------------------------


def _aged_ticket(customer, days: int) -> Ticket:
    ticket = desk.open_ticket(customer, f"Old {days}", "Where is my parcel?")
    ReplyDraft.objects.create(ticket=ticket, message=ticket.messages.get(), text="Soon.", confidence=0.9)
    Job.objects.create(
        kind=kinds.DRAFT_JOB, target_model=kinds.MESSAGE_TARGET, target_id=ticket.messages.get().pk, input_hash="h"
    )
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() - timedelta(days=days))
    return ticket


def test_tickets_past_the_retention_go_with_their_messages_drafts_and_jobs(customer):
    old, recent = _aged_ticket(customer, 800), _aged_ticket(customer, 10)
    assert purge_old_tickets() == 1  # the default: 730 days
    assert list(Ticket.objects.all()) == [recent]
    assert not Message.objects.filter(ticket_id=old.pk).exists()
    assert not ReplyDraft.objects.filter(ticket_id=old.pk).exists()
    assert Job.objects.filter(kind=kinds.DRAFT_JOB).count() == 1

    with override_settings(OSCAR_LLM={"SUPPORT": {"RETENTION_DAYS": 5}}):
        assert purge_old_tickets() == 1
    assert not Ticket.objects.exists()


def test_no_retention_keeps_everything(customer):
    _aged_ticket(customer, 5000)
    with override_settings(OSCAR_LLM={"SUPPORT": {"RETENTION_DAYS": None}}):
        assert purge_old_tickets() == 0
    assert Ticket.objects.count() == 1


def test_the_purge_is_a_daily_beat_task(settings):
    from shop.celery import app

    entries = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "oscar_llm.tasks.purge_old_tickets" in entries
    assert "oscar_llm.tasks.purge_old_tickets" in app.tasks
