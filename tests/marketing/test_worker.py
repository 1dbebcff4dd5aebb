"""A worker killed in the middle of a send: still exactly one email per consenting customer.

Real Redis (its own database), real ``celery -A shop worker`` processes writing email files
(Django's file backend), the test database. The first worker sends slowly (the rate limit) and
is killed with SIGKILL after a few emails; the sweep hands its job back, a second worker finishes.
"""

from __future__ import annotations

import email
import os
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from oscar_llm import jobs
from oscar_llm.marketing import campaigns, profiles, segments
from oscar_llm.models import CampaignSend, Job
from tests import workers
from tests.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Its own database where one is given; else the core worker tests' (test files run one after another).
REDIS_URL = os.environ.get("OSCAR_LLM_MARKETING_TEST_REDIS_URL") or os.environ.get(
    "OSCAR_LLM_TEST_REDIS_URL", "redis://127.0.0.1:6379/12"
)


def recipients(mail_dir) -> Counter:
    counts: Counter = Counter()
    for path in mail_dir.glob("*.log"):
        # The file backend appends each message, separated by a line of dashes.
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                counts[email.message_from_string(chunk.strip()).get("To")] += 1
    return counts


def test_a_worker_killed_mid_send_still_sends_one_email_per_consenting_customer(marketing_shop, staff_user, tmp_path):
    campaign = marketing_shop["campaign"]
    profiles.compute_profiles()
    for variant in campaigns.write_copy(campaign, generator=None):
        campaigns.approve(variant, by=staff_user)
    segments.unsubscribe(segments.unsubscribe_token(marketing_shop["customers"][4]))
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        # One email a second, so the kill lands in the middle of the batch; a dead worker's claim
        # is taken over after 2 seconds.
        "OSCAR_LLM_SEND_RATE_PER_MINUTE": "60",
        "OSCAR_LLM_SEND_CLAIM_TIMEOUT": "2",
    }
    with workers.redis_broker(REDIS_URL), workers.worker_starter(tmp_path, REDIS_URL, env) as start:
        counts = campaigns.start_sending(campaign, base_url="http://testserver")
        sends = CampaignSend.objects.filter(campaign=campaign)
        expected = set(sends.filter(status="pending").values_list("user__email", flat=True))
        assert counts["recipients"] == len(expected) >= 5
        first = start()
        wait_for(lambda: sends.filter(status="sent").count() >= 2, timeout=300, worker=first, what="two emails")
        first.kill()
        assert sends.filter(status="sent").count() < len(expected), "the worker finished before it was killed"

        jobs.sweep(now=timezone.now() + timedelta(hours=1))  # the dead worker's lease has run out
        second = start()
        wait_for(
            lambda: not sends.filter(status__in=["pending", "claimed"]).exists(),
            timeout=300,
            worker=second,
            what="every email sent",
        )
    got = recipients(mail_dir)
    assert set(got) == expected
    assert all(n == 1 for n in got.values()), got
    holdout = set(sends.filter(group="holdout").values_list("user__email", flat=True))
    assert holdout and not (holdout & set(got))
    assert "c4@example.com" not in got and "c5@example.com" not in got  # unsubscribed, never agreed
    assert Job.objects.filter(kind=campaigns.SEND_JOB, status=Job.Status.DONE).exists()
