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

    def get_urls(self) -> list:
        return self.post_process_urls([])
