"""What product questions plug into the core: the answering job kind and the storefront URLs.

Called from ``OscarLLMConfig.ready()``; see docs/architecture.md, "Adding a feature".
"""

from __future__ import annotations


def ready() -> None:
    from django.db.models.signals import post_delete, post_save

    from .. import jobs
    from ..models import ProductQuestion
    from .kinds import ANSWER_JOB
    from .services import questions_changed, run_answer_jobs

    jobs.register_kind(ANSWER_JOB, run_answer_jobs, batch_size=8, family=jobs.TEXT)
    post_save.connect(questions_changed, sender=ProductQuestion, dispatch_uid="oscar_llm.qa.page_version.save")
    post_delete.connect(questions_changed, sender=ProductQuestion, dispatch_uid="oscar_llm.qa.page_version.delete")


def storefront_urls() -> list:
    from django.urls import path

    from . import views

    return [
        path("catalogue/<int:pk>/questions/", views.AskView.as_view(), name="oscar_llm-qa-ask"),
        path("catalogue/questions/<int:pk>/", views.QuestionStatusView.as_view(), name="oscar_llm-qa-status"),
        path("catalogue/questions/<int:pk>/helpful/", views.HelpfulView.as_view(), name="oscar_llm-qa-helpful"),
    ]
