"""What the features plug into the core at start-up: job kinds, Celery tasks under their first names."""

from __future__ import annotations

from django.conf import settings

from oscar_llm import jobs

# The names of the first release: messages a running shop has queued, and its beat schedule, use them.
STABLE_TASK_NAMES = {
    "oscar_llm.tasks.run_jobs",
    "oscar_llm.tasks.sweep_jobs",
    "oscar_llm.tasks.record_interactions",
    "oscar_llm.tasks.merge_visitor_events",
    "oscar_llm.tasks.purge_old_interactions",
    "oscar_llm.tasks.refresh_stale_content",
    "oscar_llm.tasks.refresh_segments",
    "oscar_llm.tasks.refit_recommendations",
    "oscar_llm.recommendations.tracking.flush_recommendation_stats",
}


def test_tasks_keep_their_first_names_and_the_beat_schedule_finds_them():
    from shop.celery import app

    registered = set(app.tasks)
    assert registered >= STABLE_TASK_NAMES
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= registered


def test_every_feature_registers_its_job_kinds():
    assert jobs.kinds_of("content") == [
        "content.bulk",
        "content.description",
        "content.meta_description",
        "content.plan",
        "content.title",
    ]
    assert jobs.kinds_of("recs") == ["recs.fit", "recs.product", "recs.profile", "recs.vectors"]
    assert jobs.kinds_of("support") == ["support.draft", "support.embed_article", "support.reply_email"]
    assert jobs.kinds_of("qa") == ["qa.answer"]
    assert jobs.get_kind("content.title").batch_size == 128
