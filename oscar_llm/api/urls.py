from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import content, experiments, jobs, marketing, qa, recommendations, support

app_name = "oscar_llm_api"

router = SimpleRouter()
router.register("drafts", content.DraftViewSet, basename="draft")
router.register("jobs", jobs.JobViewSet, basename="job")
router.register("experiments", experiments.ExperimentViewSet, basename="experiment")
router.register("support/tickets", support.CustomerTicketViewSet, basename="support-ticket")
router.register("support/drafts", support.SupportDraftViewSet, basename="support-draft")
router.register("questions", qa.StaffQuestionViewSet, basename="qa-question")
router.register("marketing/campaigns", marketing.CampaignViewSet, basename="marketing-campaign")
router.register("marketing/segments", marketing.SegmentViewSet, basename="marketing-segment")
router.register("marketing/variants", marketing.VariantViewSet, basename="marketing-variant")

urlpatterns = [
    path("products/<int:pk>/copy/", content.PublishedCopyView.as_view(), name="product-copy"),
    path("generate/", content.GenerateView.as_view(), name="generate"),
    path(
        "recommendations/products/<int:pk>/",
        recommendations.ProductRecommendationsView.as_view(),
        name="recommendations-product",
    ),
    path("recommendations/me/", recommendations.CustomerRecommendationsView.as_view(), name="recommendations-me"),
    path("recommendations/basket/", recommendations.BasketRecommendationsView.as_view(), name="recommendations-basket"),
    path("products/<int:pk>/questions/", qa.ProductQuestionsView.as_view(), name="qa-product"),
    path("products/<int:pk>/questions/ask/", qa.AskView.as_view(), name="qa-ask"),
    path("questions/mine/<int:pk>/", qa.QuestionStatusView.as_view(), name="qa-mine"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    *router.urls,
]
