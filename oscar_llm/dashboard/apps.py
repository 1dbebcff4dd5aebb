from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from oscar.core.application import OscarDashboardConfig
from oscar.core.loading import get_class

from .. import permissions


def view(module: str, name: str) -> type:
    """A view class, loaded the way Oscar loads its own dashboard views.

    ``get_class("dashboard.<module>", name, module_prefix="oscar_llm")`` looks first in the
    shop's ``dashboard`` app (Oscar's, or the shop's fork of it) and then in
    ``oscar_llm.dashboard.<module>``, exactly as Oscar finds ``dashboard.catalogue.views``.
    So a shop that forked Oscar's dashboard replaces one of these views by defining a class
    of the same name in ``<its dashboard package>/<module>.py``; every other class still
    comes from here.
    """
    return get_class(f"dashboard.{module}", name, module_prefix="oscar_llm")


class LLMDashboardConfig(OscarDashboardConfig):
    label = "oscar_llm_dashboard"
    name = "oscar_llm.dashboard"
    verbose_name = _("Language models dashboard")
    namespace = "oscar_llm_dashboard"
    default_permissions = permissions.STAFF
    # The rules are shared with the REST API (``oscar_llm.permissions``).
    # Every URL below is named here (tests/core/test_dashboard_permissions.py fails for one that is not):
    # a staff member sees only the pages of the work they were given.
    permissions_map = {
        # Product copy: reading drafts and asking for more is the reviewers' work, like publishing.
        "draft-list": permissions.REVIEW_COPY,
        "draft-detail": permissions.REVIEW_COPY,
        "draft-approve": permissions.REVIEW_COPY,
        "draft-edit-approve": permissions.REVIEW_COPY,
        "draft-reject": permissions.REVIEW_COPY,
        "draft-bulk-approve": permissions.REVIEW_COPY,
        "generate-all": permissions.REVIEW_COPY,
        "product-history": permissions.REVIEW_COPY,
        "product-regenerate": permissions.REVIEW_COPY,
        "version-rollback": permissions.REVIEW_COPY,
        # Jobs.
        "job-list": permissions.VIEW_JOBS,
        "job-sweep": permissions.RUN_JOBS,
        # Support: tickets show what customers wrote; the knowledge base grounds every draft.
        "support-queue": permissions.ANSWER_TICKETS,
        "support-figures": permissions.ANSWER_TICKETS,
        "support-ticket": permissions.ANSWER_TICKETS,
        "support-draft-approve": permissions.ANSWER_TICKETS,
        "support-draft-reject": permissions.ANSWER_TICKETS,
        "support-draft-save": permissions.ANSWER_TICKETS,
        "support-article-list": permissions.EDIT_KNOWLEDGE,
        "support-article-create": permissions.EDIT_KNOWLEDGE,
        "support-article-edit": permissions.EDIT_KNOWLEDGE,
        # Product questions: answers are published on product pages.
        "qa-queue": permissions.ANSWER_QUESTIONS,
        "qa-question": permissions.ANSWER_QUESTIONS,
        "qa-figures": permissions.ANSWER_QUESTIONS,
        # Recommendations.
        "recommendation-stats": permissions.VIEW_RECOMMENDATION_STATS,
        # Experiments.
        "experiment-list": permissions.VIEW_EXPERIMENTS,
        "experiment-detail": permissions.VIEW_EXPERIMENTS,
        "experiment-csv": permissions.VIEW_EXPERIMENTS,
        "experiment-create": permissions.RUN_EXPERIMENTS,
        "experiment-start": permissions.RUN_EXPERIMENTS,
        "experiment-stop": permissions.RUN_EXPERIMENTS,
        "experiment-roll-out": permissions.RUN_EXPERIMENTS,
        # Marketing: segments show customers; campaigns email them.
        "marketing-campaign-list": permissions.MANAGE_CAMPAIGNS,
        "marketing-campaign-create": permissions.MANAGE_CAMPAIGNS,
        "marketing-campaign-detail": permissions.MANAGE_CAMPAIGNS,
        "marketing-campaign-generate": permissions.MANAGE_CAMPAIGNS,
        "marketing-campaign-send": permissions.MANAGE_CAMPAIGNS,
        "marketing-campaign-export": permissions.MANAGE_CAMPAIGNS,
        "marketing-variant-approve": permissions.MANAGE_CAMPAIGNS,
        "marketing-variant-edit": permissions.MANAGE_CAMPAIGNS,
        "marketing-variant-reject": permissions.MANAGE_CAMPAIGNS,
        "marketing-variant-test": permissions.MANAGE_CAMPAIGNS,
        "marketing-segment-list": permissions.MANAGE_CAMPAIGNS,
        "marketing-segment-create": permissions.MANAGE_CAMPAIGNS,
        "marketing-profiles-refresh": permissions.MANAGE_CAMPAIGNS,
    }

    def get_urls(self) -> list:
        urls = [
            *self.content_urls(),
            *self.job_urls(),
            *self.support_urls(),
            *self.recommendation_urls(),
            *self.experiment_urls(),
            *self.qa_urls(),
            *self.marketing_urls(),
        ]
        return self.post_process_urls(urls)

    def content_urls(self) -> list[URLPattern]:
        def v(name: str) -> type:
            return view("content_views", name)

        return [
            path("", v("DraftListView").as_view(), name="draft-list"),
            path("approve/", v("BulkApproveView").as_view(), name="draft-bulk-approve"),
            path("generate/", v("GenerateAllView").as_view(), name="generate-all"),
            path("<int:pk>/", v("DraftDetailView").as_view(), name="draft-detail"),
            path("<int:pk>/approve/", v("DraftApproveView").as_view(), name="draft-approve"),
            path("<int:pk>/edit/", v("DraftEditApproveView").as_view(), name="draft-edit-approve"),
            path("<int:pk>/reject/", v("DraftRejectView").as_view(), name="draft-reject"),
            path("product/<int:product_pk>/", v("ProductHistoryView").as_view(), name="product-history"),
            path(
                "product/<int:product_pk>/regenerate/",
                v("ProductRegenerateView").as_view(),
                name="product-regenerate",
            ),
            path("version/<int:pk>/rollback/", v("VersionRollbackView").as_view(), name="version-rollback"),
        ]

    def job_urls(self) -> list[URLPattern]:
        return [
            path("jobs/", view("job_views", "JobListView").as_view(), name="job-list"),
            path("jobs/sweep/", view("job_views", "JobSweepView").as_view(), name="job-sweep"),
        ]

    def support_urls(self) -> list[URLPattern]:
        def v(name: str) -> type:
            return view("support_views", name)

        return [
            path("support/", v("QueueView").as_view(), name="support-queue"),
            path("support/figures/", v("FiguresView").as_view(), name="support-figures"),
            path("support/<int:pk>/", v("TicketView").as_view(), name="support-ticket"),
            path("support/draft/<int:pk>/approve/", v("DraftApproveView").as_view(), name="support-draft-approve"),
            path("support/draft/<int:pk>/reject/", v("DraftRejectView").as_view(), name="support-draft-reject"),
            path("support/draft/<int:pk>/save/", v("DraftSaveView").as_view(), name="support-draft-save"),
            path("support/articles/", v("ArticleListView").as_view(), name="support-article-list"),
            path("support/articles/new/", v("ArticleCreateView").as_view(), name="support-article-create"),
            path("support/articles/<int:pk>/", v("ArticleUpdateView").as_view(), name="support-article-edit"),
        ]

    def qa_urls(self) -> list[URLPattern]:
        def v(name: str) -> type:
            return view("qa_views", name)

        return [
            path("questions/", v("QuestionQueueView").as_view(), name="qa-queue"),
            path("questions/figures/", v("QuestionFiguresView").as_view(), name="qa-figures"),
            path("questions/<int:pk>/", v("QuestionView").as_view(), name="qa-question"),
        ]

    def recommendation_urls(self) -> list[URLPattern]:
        return [
            path(
                "recommendations/",
                view("recommendation_views", "RecommendationStatsView").as_view(),
                name="recommendation-stats",
            ),
        ]

    def experiment_urls(self) -> list[URLPattern]:
        def v(name: str) -> type:
            return view("experiment_views", name)

        return [
            path("experiments/", v("ExperimentListView").as_view(), name="experiment-list"),
            path("experiments/new/", v("ExperimentCreateView").as_view(), name="experiment-create"),
            path("experiments/<int:pk>/", v("ExperimentDetailView").as_view(), name="experiment-detail"),
            path("experiments/<int:pk>/start/", v("ExperimentStartView").as_view(), name="experiment-start"),
            path("experiments/<int:pk>/stop/", v("ExperimentStopView").as_view(), name="experiment-stop"),
            path("experiments/<int:pk>/roll-out/", v("ExperimentRollOutView").as_view(), name="experiment-roll-out"),
            path("experiments/<int:pk>/export.csv", v("ExperimentCSVView").as_view(), name="experiment-csv"),
        ]

    def marketing_urls(self) -> list[URLPattern]:
        def v(name: str) -> type:
            return view("marketing_views", name)

        campaign_action, variant_action = v("CampaignActionView"), v("VariantActionView")
        return [
            path("marketing/", v("CampaignListView").as_view(), name="marketing-campaign-list"),
            path("marketing/new/", v("CampaignCreateView").as_view(), name="marketing-campaign-create"),
            path("marketing/<int:pk>/", v("CampaignDetailView").as_view(), name="marketing-campaign-detail"),
            path(
                "marketing/<int:pk>/generate/",
                campaign_action.as_view(action="generate"),
                name="marketing-campaign-generate",
            ),
            path("marketing/<int:pk>/send/", campaign_action.as_view(action="send"), name="marketing-campaign-send"),
            path("marketing/<int:pk>/export/", v("CampaignExportView").as_view(), name="marketing-campaign-export"),
            path(
                "marketing/variant/<int:pk>/approve/",
                variant_action.as_view(action="approve"),
                name="marketing-variant-approve",
            ),
            path(
                "marketing/variant/<int:pk>/edit/", variant_action.as_view(action="edit"), name="marketing-variant-edit"
            ),
            path(
                "marketing/variant/<int:pk>/reject/",
                variant_action.as_view(action="reject"),
                name="marketing-variant-reject",
            ),
            path(
                "marketing/variant/<int:pk>/test/", variant_action.as_view(action="test"), name="marketing-variant-test"
            ),
            path("marketing/segments/", v("SegmentListView").as_view(), name="marketing-segment-list"),
            path("marketing/segments/new/", v("SegmentCreateView").as_view(), name="marketing-segment-create"),
            path(
                "marketing/profiles/refresh/",
                v("ProfilesRefreshView").as_view(),
                name="marketing-profiles-refresh",
            ),
        ]
