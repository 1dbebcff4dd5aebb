"""A second shop: a django-oscar project made from scratch, with oscar_llm added as the README says.

``django-admin startproject`` in a temporary folder, Oscar added as Oscar's own documentation ("Building
your own shop") says, then the README's snippets applied as they are printed there. The project is a
separate process on its own SQLite database, as a new shop starts: it passes ``manage.py check``,
migrates, and ``runserver`` serves a product page with every feature on. The same project, with one
step of the README left out or done wrong, gets the system check error that names the fix.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.install import snippets

BIN = Path(sys.executable).parent
PROJECT = "secondshop"

# What Oscar's documentation ("Building your own shop") has a new project add to its settings.
OSCAR_SHOP_SETTINGS = """
from oscar.defaults import *  # noqa: E402,F403

INSTALLED_APPS += [
    "django.contrib.sites",
    "django.contrib.flatpages",
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "oscar.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "oscar.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "oscar.apps.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "oscar.apps.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "oscar.apps.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "haystack",
    "treebeard",
    "sorl.thumbnail",
    "django_tables2",
]
SITE_ID = 1
MIDDLEWARE += [
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]
TEMPLATES[0]["OPTIONS"]["context_processors"] += [
    "oscar.apps.search.context_processors.search_form",
    "oscar.apps.checkout.context_processors.checkout",
    "oscar.apps.communication.notifications.context_processors.notifications",
    "oscar.core.context_processors.metadata",
]
AUTHENTICATION_BACKENDS = (
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
MEDIA_ROOT = BASE_DIR / "media"
# This test's own: a broker that goes nowhere (no worker runs here).
CELERY_BROKER_URL = "memory://"
"""

OSCAR_SHOP_URLS = """from django.apps import apps
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
"""

# Data for the product page, written through the plugin's own services where a shop's staff would act;
# the recommendation lists are what a worker's fit writes (the page reads them, never the engine).
SETUP_DATA = """
from decimal import Decimal

from django.contrib.auth import get_user_model
from oscar.test.factories import create_product

from oscar_llm.content import services
from oscar_llm.models import ContentDraft, Feature, FeatureSwitch, RecommendationList

staff = get_user_model().objects.create_user("staff", "staff@example.com", "staff-password", is_staff=True,
                                              is_superuser=True)
for feature in Feature:
    FeatureSwitch.set(feature, enabled=True)
product = create_product(title="Calder Men Olive Wool Jacket", product_class="Clothing", price=Decimal("89.00"),
                         num_in_stock=4, attributes={"colour": "Olive", "material": "Wool"},
                         description="An olive wool jacket.")
others = [create_product(title=f"Calder Men Wool Scarf {n}", product_class="Clothing", price=Decimal("25.00"),
                         num_in_stock=9) for n in range(3)]
for kind, text in (("title", "Calder Olive Wool Field Jacket"),
                   ("description", "<p>A warm olive wool jacket by Calder.</p>")):
    services.publish(ContentDraft.objects.create(product=product, kind=kind, segment="default", text=text), by=staff)
RecommendationList.objects.create(kind="similar", key=str(product.pk), items=[
    {"id": p.pk, "score": 1.0 - n / 10, "reason": "similar", "source": product.pk, "source_title": product.title}
    for n, p in enumerate(others)])

from django.test import Client

client = Client(HTTP_HOST="127.0.0.1")  # the host runserver serves (DEBUG, no ALLOWED_HOSTS)
client.force_login(staff)
for url in ("/dashboard/", "/dashboard/llm/", "/dashboard/llm/support/"):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert "Language models" in response.content.decode(), url
print(product.get_absolute_url())
"""


def run(project_dir: Path, *args: str, settings: str = f"{PROJECT}.settings", check: bool = True):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env["DJANGO_SETTINGS_MODULE"] = settings
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=project_dir, env=env, capture_output=True, text=True
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def second_shop(tmp_path_factory) -> Path:
    """The project: startproject, Oscar as its documentation says, then the README's snippets."""
    root = tmp_path_factory.mktemp("second_shop")
    subprocess.run([str(BIN / "django-admin"), "startproject", PROJECT, str(root)], check=True)
    package = root / PROJECT
    settings = package / "settings.py"
    settings.write_text(settings.read_text() + OSCAR_SHOP_SETTINGS + "\n" + snippets.settings_addition())
    (package / "urls.py").write_text(snippets.with_plugin_urls(OSCAR_SHOP_URLS))
    (package / "celery.py").write_text(snippets.celery_module(PROJECT))
    (package / "__init__.py").write_text(snippets.celery_init())
    return root


def test_the_readme_snippets_were_applied_as_printed(second_shop):
    package = second_shop / PROJECT
    assert snippets.settings_addition() in (package / "settings.py").read_text()
    assert 'path("", include("oscar_llm.urls")),' in (package / "urls.py").read_text()
    assert 'app = Celery("secondshop")' in (package / "celery.py").read_text()


def test_it_passes_every_check(second_shop):
    result = run(second_shop, "check")
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(second_shop) -> Iterator[tuple[str, str]]:
    """Migrated, with data, served by ``manage.py runserver``: (base URL, the product's path)."""
    run(second_shop, "migrate", "--no-input")
    product_path = run(second_shop, "shell", "-c", textwrap.dedent(SETUP_DATA)).stdout.strip().splitlines()[-1]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    log = (second_shop / "runserver.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=second_shop,
        env={**env, "DJANGO_SETTINGS_MODULE": f"{PROJECT}.settings"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:  # runserver runs the checks first; wait for it to answer (or to exit)
            if process.poll() is not None:
                pytest.fail((second_shop / "runserver.log").read_text())
            try:
                urllib.request.urlopen(base + "/", timeout=30).close()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        yield base, product_path
    finally:
        process.terminate()
        process.wait()
        log.close()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_it_serves_a_product_page_with_every_feature_on(server):
    base, product_path = server

    status, page = get(base + product_path)

    assert status == 200
    assert "<title>Calder Olive Wool Field Jacket |" in page
    assert '<h1 data-oscar-llm="title">Calder Olive Wool Field Jacket</h1>' in page
    assert "<p>A warm olive wool jacket by Calder.</p>" in page
    assert 'data-oscar-llm-rec-block="product_similar"' in page
    assert page.count("oscar-llm-rec-item") == 3
    assert "oscar_llm/recommendations.js" in page
    assert 'id="add_to_basket_form"' in page  # Oscar's own page around it


def test_it_serves_the_api_and_the_customers_support_pages(server):
    base, product_path = server
    product_id = product_path.rstrip("/").rsplit("_", 1)[-1]

    status, body = get(f"{base}/api/llm/products/{product_id}/copy/")
    assert status == 200 and "Calder Olive Wool Field Jacket" in body
    status, body = get(f"{base}/api/llm/schema/")
    assert status == 200 and "/api/llm/recommendations/products/{id}/" in body
    status, body = get(f"{base}/accounts/support/")
    assert status == 200 and "login" in body.lower()  # redirected to Oscar's login page


def variant(second_shop: Path, name: str, settings_lines: str) -> str:
    """A settings module of the same project with ``settings_lines`` added; its dotted name."""
    (second_shop / PROJECT / f"{name}.py").write_text(
        "from .settings import *  # noqa: F403\n" + textwrap.dedent(settings_lines)
    )
    return f"{PROJECT}.{name}"


def failed_check(second_shop: Path, settings: str) -> str:
    result = run(second_shop, "check", settings=settings, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stderr


def test_the_plugin_listed_after_oscar_is_an_error_naming_the_fix(second_shop):
    settings = variant(
        second_shop,
        "settings_plugin_after_oscar",
        """
        from oscar_llm import config
        INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in config.PLUGIN_APPS]
        after_oscar = INSTALLED_APPS.index("oscar.config.Shop") + 1
        INSTALLED_APPS[after_oscar:after_oscar] = list(config.PLUGIN_APPS)
        """,
    )

    output = failed_check(second_shop, settings)

    assert "(oscar_llm.E001) oscar_llm is listed after oscar.config.Shop in INSTALLED_APPS" in output
    assert "INSTALLED_APPS = oscar_llm_config.installed_apps(INSTALLED_APPS)" in output
    assert output.count("oscar_llm.E") == 1


def test_forgotten_urls_are_an_error_naming_the_line_to_add(second_shop):
    (second_shop / PROJECT / "urls_oscar_only.py").write_text(OSCAR_SHOP_URLS)
    settings = variant(second_shop, "settings_no_urls", f'ROOT_URLCONF = "{PROJECT}.urls_oscar_only"\n')

    output = failed_check(second_shop, settings)

    assert "(oscar_llm.E003) The URLconf (secondshop.urls_oscar_only) lacks oscar_llm's URLs" in output
    assert "(oscar_llm.E005) OSCAR_DASHBOARD_NAVIGATION has entries whose URL does not reverse" in output
    assert 'Add `path("", include("oscar_llm.urls")),` to urlpatterns before Oscar\'s own URLs' in output


def test_a_missing_dashboard_app_is_an_error(second_shop):
    settings = variant(
        second_shop,
        "settings_no_dashboard_app",
        """
        INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "oscar_llm.dashboard.apps.LLMDashboardConfig"]
        """,
    )

    output = failed_check(second_shop, settings)

    assert "(oscar_llm.E002) 'oscar_llm.dashboard.apps.LLMDashboardConfig' is not in INSTALLED_APPS" in output


def test_a_project_without_a_celery_app_is_an_error(second_shop):
    without = second_shop / "nocelery"
    shutil.copytree(second_shop / PROJECT, without, ignore=shutil.ignore_patterns("__pycache__"))
    (without / "__init__.py").write_text("")
    (without / "settings_nocelery.py").write_text(
        "from .settings import *  # noqa: F403\nROOT_URLCONF = \"nocelery.urls\"\nCELERY_BROKER_URL = 'memory://'\n"
    )

    output = failed_check(second_shop, "nocelery.settings_nocelery")

    assert "(oscar_llm.E007) No Celery app is loaded" in output
    assert "import it in yourproject/__init__.py" in output


def test_a_beat_schedule_of_the_shops_own_without_the_plugins_is_an_error(second_shop):
    settings = variant(
        second_shop,
        "settings_own_beat",
        """
        CELERY_BEAT_SCHEDULE = {"shop-report": {"task": "shop.tasks.report", "schedule": 3600.0}}
        """,
    )

    output = failed_check(second_shop, settings)

    assert "(oscar_llm.E008) The Celery beat schedule of the app 'secondshop' does not run" in output
    assert "oscar_llm.tasks.sweep_jobs" in output
