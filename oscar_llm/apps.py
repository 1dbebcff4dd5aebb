from importlib import import_module

from django.utils.translation import gettext_lazy as _
from oscar.core.application import OscarConfig

# The feature packages, side by side (docs/architecture.md, "Adding a feature"): each has a
# ``wiring.ready()`` that registers its job kinds, connects its receivers and imports its tasks.
FEATURES = ("content", "recommendations", "support", "qa", "marketing")


class OscarLLMConfig(OscarConfig):
    label = "oscar_llm"
    name = "oscar_llm"
    verbose_name = _("Language models")
    namespace = "oscar_llm"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from django.core import checks

        from . import checks as install_checks
        from . import interactions
        from .experiments import outcomes as experiment_outcomes
        from .experiments import tasks as experiment_tasks  # noqa: F401  (registers the tasks with Celery)
        from .jobs import tasks  # noqa: F401  (registers the job tasks with Celery)
        from .limits import check_limits_deploy
        from .settings import check_settings

        checks.register(check_settings, checks.Tags.compatibility)
        install_checks.register()
        checks.register(check_limits_deploy, checks.Tags.security, deploy=True)
        interactions.connect_receivers()
        experiment_outcomes.connect_receivers()
        for feature in FEATURES:
            import_module(f"{self.name}.{feature}.wiring").ready()

    def get_urls(self) -> list:
        """The storefront URLs of every feature whose wiring has ``storefront_urls()``."""
        urls: list = []
        for feature in FEATURES:
            wiring = import_module(f"{self.name}.{feature}.wiring")
            if hasattr(wiring, "storefront_urls"):
                urls += wiring.storefront_urls()
        return self.post_process_urls(urls)
