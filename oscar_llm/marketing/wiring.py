"""What marketing plugs into the core: its job kinds, receivers, tasks and storefront URLs.

Called from ``OscarLLMConfig.ready()``; see docs/architecture.md, "Adding a feature".
"""

from __future__ import annotations


def ready() -> None:
    from oscar.core.loading import get_class

    from .. import jobs
    from . import receivers, tasks  # noqa: F401  (tasks: registers them with Celery)
    from .campaigns import COPY_JOB, SEND_JOB, run_copy_jobs, run_send_jobs
    from .profiles import PROFILE_JOB, run_profile_jobs

    jobs.register_kind(PROFILE_JOB, run_profile_jobs, batch_size=10, family=jobs.FITS)
    jobs.register_kind(COPY_JOB, run_copy_jobs, batch_size=4, family=jobs.TEXT)
    jobs.register_kind(SEND_JOB, run_send_jobs, batch_size=1, family=jobs.EMAIL)

    get_class("customer.signals", "user_registered").connect(
        receivers.user_registered, dispatch_uid="oscar_llm_marketing_registered"
    )


def storefront_urls() -> list:
    from django.urls import path

    from . import views

    return [
        path("accounts/marketing/", views.ConsentView.as_view(), name="oscar_llm-marketing-consent"),
        path("marketing/unsubscribe/<str:token>/", views.unsubscribe, name="oscar_llm-marketing-unsubscribe"),
        path("marketing/click/<str:token>/", views.click, name="oscar_llm-marketing-click"),
    ]
