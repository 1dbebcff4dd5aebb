from django.urls import path
from django.utils.translation import gettext_lazy as _
from oscar.core.application import OscarDashboardConfig

# Publishing or withdrawing copy changes what customers read: staff need the review
# permission (superusers have every permission, so they pass too).
REVIEW_PERMISSIONS = (["is_staff", "oscar_llm.review_contentdraft"], ["is_staff", "is_superuser"])

SUPPORT_PERMISSIONS = (["is_staff", "oscar_llm.answer_ticket"], ["is_staff", "is_superuser"])


class LLMDashboardConfig(OscarDashboardConfig):
    label = "oscar_llm_dashboard"
    name = "oscar_llm.dashboard"
    verbose_name = _("Language models dashboard")
    namespace = "oscar_llm_dashboard"
    default_permissions = ["is_staff"]
    permissions_map = {
        "draft-approve": REVIEW_PERMISSIONS,
        "draft-edit-approve": REVIEW_PERMISSIONS,
        "draft-reject": REVIEW_PERMISSIONS,
        "draft-bulk-approve": REVIEW_PERMISSIONS,
        "version-rollback": REVIEW_PERMISSIONS,
        # Support replies reach customers: staff need the answer permission (or superuser).
        "support-draft-approve": SUPPORT_PERMISSIONS,
        "support-draft-reject": SUPPORT_PERMISSIONS,
        "support-ticket": SUPPORT_PERMISSIONS,
    }

    def ready(self) -> None:
        from . import views

        self.views = views

    def get_urls(self) -> list:
        from . import recommendation_views

        v = self.views
        urls = [
            path("", v.DraftListView.as_view(), name="draft-list"),
            path("approve/", v.BulkApproveView.as_view(), name="draft-bulk-approve"),
            path("generate/", v.GenerateAllView.as_view(), name="generate-all"),
            path("<int:pk>/", v.DraftDetailView.as_view(), name="draft-detail"),
            path("<int:pk>/approve/", v.DraftApproveView.as_view(), name="draft-approve"),
            path("<int:pk>/edit/", v.DraftEditApproveView.as_view(), name="draft-edit-approve"),
            path("<int:pk>/reject/", v.DraftRejectView.as_view(), name="draft-reject"),
            path("product/<int:product_pk>/", v.ProductHistoryView.as_view(), name="product-history"),
            path(
                "product/<int:product_pk>/regenerate/",
                v.ProductRegenerateView.as_view(),
                name="product-regenerate",
            ),
            path("version/<int:pk>/rollback/", v.VersionRollbackView.as_view(), name="version-rollback"),
            path("jobs/", v.JobListView.as_view(), name="job-list"),
            path("jobs/sweep/", v.JobSweepView.as_view(), name="job-sweep"),
            *self.support_urls(),
            path(
                "recommendations/",
                recommendation_views.RecommendationStatsView.as_view(),
                name="recommendation-stats",
            ),
        ]
        return self.post_process_urls(urls)

    def support_urls(self) -> list:
        from . import support_views as sv

        return [
            path("support/", sv.QueueView.as_view(), name="support-queue"),
            path("support/figures/", sv.FiguresView.as_view(), name="support-figures"),
            path("support/<int:pk>/", sv.TicketView.as_view(), name="support-ticket"),
            path("support/draft/<int:pk>/approve/", sv.DraftApproveView.as_view(), name="support-draft-approve"),
            path("support/draft/<int:pk>/reject/", sv.DraftRejectView.as_view(), name="support-draft-reject"),
            path("support/articles/", sv.ArticleListView.as_view(), name="support-article-list"),
            path("support/articles/new/", sv.ArticleCreateView.as_view(), name="support-article-create"),
            path("support/articles/<int:pk>/", sv.ArticleUpdateView.as_view(), name="support-article-edit"),
        ]
