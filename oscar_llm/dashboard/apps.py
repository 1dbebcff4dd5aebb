from django.urls import path
from django.utils.translation import gettext_lazy as _
from oscar.core.application import OscarDashboardConfig

# Publishing or withdrawing copy changes what customers read: staff need the review
# permission (superusers have every permission, so they pass too).
REVIEW_PERMISSIONS = (["is_staff", "oscar_llm.review_contentdraft"], ["is_staff", "is_superuser"])


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
    }

    def ready(self) -> None:
        from . import views

        self.views = views

    def get_urls(self) -> list:
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
        ]
        return self.post_process_urls(urls)
