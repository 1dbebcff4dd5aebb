"""What the support desk plugs into the core: its job kinds and receivers.

Called from ``OscarLLMConfig.ready()``; see docs/architecture.md, "Adding a feature".
"""

from __future__ import annotations


def ready() -> None:
    from django.db.models.signals import post_save

    from .. import hooks, jobs
    from ..models import KnowledgeArticle
    from . import receivers, tasks  # noqa: F401  (tasks: registers them with Celery)
    from .desk import open_ticket, run_email_jobs
    from .drafting_jobs import run_draft_jobs
    from .kinds import DRAFT_JOB, EMAIL_JOB, EMBED_JOB
    from .knowledge_base import run_embedding_jobs

    # Other features open tickets by name (a product question about an order): oscar_llm/hooks.py.
    hooks.register("support.open_ticket", open_ticket)

    jobs.register_kind(DRAFT_JOB, run_draft_jobs, batch_size=16, family=jobs.TEXT)
    jobs.register_kind(EMBED_JOB, run_embedding_jobs, batch_size=32, family=jobs.EMBEDDINGS)
    jobs.register_kind(EMAIL_JOB, run_email_jobs, batch_size=20, family=jobs.EMAIL)

    post_save.connect(
        receivers.knowledge_article_saved, sender=KnowledgeArticle, dispatch_uid="oscar_llm_article_saved"
    )


def storefront_urls() -> list:
    from django.urls import path

    from . import views

    # The customer's support desk lives in Oscar's account area.
    return [
        path("accounts/support/", views.TicketListView.as_view(), name="oscar_llm-support-list"),
        path("accounts/support/new/", views.TicketCreateView.as_view(), name="oscar_llm-support-create"),
        path("accounts/support/<int:pk>/", views.TicketDetailView.as_view(), name="oscar_llm-support-detail"),
    ]
