"""Every URL of the plugin, for one line in a shop's URLconf, before Oscar's own URLs::

    path("", include("oscar_llm.urls")),

- ``dashboard/llm/``: the staff pages, namespace ``oscar_llm_dashboard`` (the dashboard menu entries
  of ``oscar_llm.config.DASHBOARD_NAVIGATION`` reverse these);
- ``api/llm/``: the REST API, namespace ``oscar_llm_api``;
- the storefront pages of each feature (``accounts/support/`` ...), named ``oscar_llm-*``.

``oscar_llm.checks`` reports a URLconf that misses them, or whose earlier patterns hide them.
"""

from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("api/llm/", include("oscar_llm.api.urls")),
    path("", include(apps.get_app_config("oscar_llm").urls[0])),
]
# ``urls`` of an Oscar app config is (patterns, app name, instance namespace); include() takes the
# first two and uses the app name, "oscar_llm_dashboard", as the namespace. Without the dashboard app
# the rest still loads, and ``manage.py check`` says what is missing (oscar_llm.E002).
if apps.is_installed("oscar_llm.dashboard"):
    urlpatterns.insert(0, path("dashboard/llm/", include(apps.get_app_config("oscar_llm_dashboard").urls[:2])))
