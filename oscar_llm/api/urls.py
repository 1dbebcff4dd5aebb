from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import views

app_name = "oscar_llm_api"

router = SimpleRouter()
router.register("drafts", views.DraftViewSet, basename="draft")
router.register("jobs", views.JobViewSet, basename="job")

urlpatterns = [
    path("products/<int:pk>/copy/", views.PublishedCopyView.as_view(), name="product-copy"),
    path("generate/", views.GenerateView.as_view(), name="generate"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    *router.urls,
]
