from django.apps import apps
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # (patterns, app_name) plus the instance namespace, so "oscar_llm_dashboard:draft-list" reverses.
    path(
        "dashboard/llm/",
        include(apps.get_app_config("oscar_llm_dashboard").urls[:2], namespace="oscar_llm_dashboard"),
    ),
    path("api/llm/", include("oscar_llm.api.urls")),
    path("", include(apps.get_app_config("oscar_llm").urls[0])),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
