from django.utils.translation import gettext_lazy as _
from oscar.core.application import OscarConfig


class OscarLLMConfig(OscarConfig):
    label = "oscar_llm"
    name = "oscar_llm"
    verbose_name = _("Language models")
    namespace = "oscar_llm"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects Oscar's signals)

        # Basket additions from recommendations; cached blocks dropped when stock or rules change.
        from .recommendations import block_cache, tracking  # noqa: F401

    def get_urls(self) -> list:
        from django.urls import path

        from .recommendations.storefront_views import recommendation_click
        from .support import views as support

        urls = [
            path("recommendations/click/", recommendation_click, name="oscar_llm-recommendation-click"),
            # The customer's support desk lives in Oscar's account area.
            path("accounts/support/", support.TicketListView.as_view(), name="oscar_llm-support-list"),
            path("accounts/support/new/", support.TicketCreateView.as_view(), name="oscar_llm-support-create"),
            path("accounts/support/<int:pk>/", support.TicketDetailView.as_view(), name="oscar_llm-support-detail"),
        ]
        return self.post_process_urls(urls)
