"""The plugin's overrides of Oscar's templates extend them: every block Oscar offers stays a block a shop
can override, and a shop's own overrides apply on top of the plugin's.

The plugin ships ``oscar/catalogue/detail.html``, ``oscar/catalogue/partials/product.html`` and
``oscar/basket/basket.html`` in its app (listed before Oscar's), each extending Oscar's template of the
same name; a shop's template of that name in its own folder extends the plugin's in turn.
"""

from __future__ import annotations

from pathlib import Path

import oscar
import pytest
from django.core.cache import cache
from django.template.backends.django import get_installed_libraries
from django.template.engine import Engine
from django.template.loader_tags import BlockNode, ExtendsNode
from django.test import override_settings
from django.urls import reverse
from oscar.core.loading import get_model

import oscar_llm
from oscar_llm.content import services
from oscar_llm.models import FEATURE_CACHE_KEY, ContentDraft, Feature, FeatureSwitch
from oscar_llm.recommendations.config import SIMILAR, TOGETHER
from tests.recommendations.helpers import write_list

OSCAR_TEMPLATES = Path(oscar.__file__).resolve().parent / "templates"
PLUGIN_TEMPLATES = Path(oscar_llm.__file__).resolve().parent / "templates"

DETAIL = "oscar/catalogue/detail.html"
CARD = "oscar/catalogue/partials/product.html"
BASKET = "oscar/basket/basket.html"
BROWSE = "oscar/catalogue/browse.html"
# The registration pages, with the marketing opt-in box.
REGISTRATION = ["oscar/customer/registration.html", "oscar/customer/login_registration.html"]


def plugin_overrides() -> list[str]:
    """Every template of Oscar's the plugin replaces (same name, found first)."""
    return sorted(
        str(path.relative_to(PLUGIN_TEMPLATES))
        for path in (PLUGIN_TEMPLATES / "oscar").rglob("*.html")
        if (OSCAR_TEMPLATES / path.relative_to(PLUGIN_TEMPLATES)).exists()
    )


def oscar_blocks(name: str) -> list[str]:
    """The blocks Oscar's template ``name`` offers, those of the templates it extends included."""
    engine = Engine(dirs=[str(OSCAR_TEMPLATES)], libraries=get_installed_libraries())
    names: list[str] = []
    template = engine.get_template(name)
    while template is not None:
        names += [node.name for node in template.nodelist.get_nodes_by_type(BlockNode) if node.name not in names]
        extends = template.nodelist.get_nodes_by_type(ExtendsNode)
        template = engine.get_template(extends[0].parent_name.var) if extends else None
    return names


def test_the_plugin_overrides_exactly_the_templates_it_says_and_each_extends_oscars():
    tabs = "oscar/customer/partials/standard_tabs.html"
    assert plugin_overrides() == sorted([BASKET, DETAIL, CARD, tabs, BROWSE, *REGISTRATION])
    for name in (BASKET, CARD, DETAIL, BROWSE, *REGISTRATION):
        source = (PLUGIN_TEMPLATES / name).read_text()
        assert source.startswith(f'{{% extends "{name}" %}}'), name


def test_the_account_tabs_copy_oscars_partial_which_has_no_blocks_to_keep():
    """A partial without blocks cannot be extended: the plugin's copy must keep all of Oscar's tabs."""
    name = "oscar/customer/partials/standard_tabs.html"
    assert oscar_blocks(name) == []
    oscar_source = (OSCAR_TEMPLATES / name).read_text().strip()
    assert (PLUGIN_TEMPLATES / name).read_text().startswith(oscar_source)


def loaders(shop_templates: dict[str, str], *, plugin: bool) -> list:
    """TEMPLATES with the shop's own templates first, then (without the plugin) Oscar's before the apps'."""
    from django.conf import settings

    base = settings.TEMPLATES[0]
    chain: list = [("django.template.loaders.locmem.Loader", shop_templates)]
    if not plugin:
        chain.append(("django.template.loaders.filesystem.Loader", [str(OSCAR_TEMPLATES)]))
    chain += ["django.template.loaders.filesystem.Loader", "django.template.loaders.app_directories.Loader"]
    return [{**base, "APP_DIRS": False, "OPTIONS": {**base["OPTIONS"], "loaders": chain}}]


def shop_override(name: str, block: str) -> dict[str, str]:
    return {name: f'{{% extends "{name}" %}}{{% block {block} %}}<i>shop-override-of-{block}</i>{{% endblock %}}'}


def switch_everything_on() -> None:
    # bulk_create: switching on through save() queues a recommendations fit, not what these tests are about.
    FeatureSwitch.objects.all().delete()
    FeatureSwitch.objects.bulk_create([FeatureSwitch(feature=feature, enabled=True) for feature in Feature])
    cache.delete(FEATURE_CACHE_KEY)


@pytest.fixture
def shop_with_copy(make_product, staff_user):
    """A product with published generated copy and precomputed recommendations, every feature on."""
    switch_everything_on()
    product = make_product("Northwind Women Navy Blue Cotton Dress")
    others = [make_product(f"Tarn Women Red Linen Dress {n}", colour="Red", material="Linen") for n in range(4)]
    for kind, text in (
        ("title", "Northwind Navy Cotton Day Dress"),
        ("description", "<p>A navy blue cotton dress by Northwind.</p>"),
    ):
        draft = ContentDraft.objects.create(product=product, kind=kind, segment="default", text=text)
        services.publish(draft, by=staff_user)
    write_list(SIMILAR, product.pk, others, source=product.pk, source_title=product.title)
    write_list(TOGETHER, product.pk, others, reason="together", source=product.pk, source_title=product.title)
    # Oscar's own recommendation: the product's card on another product's page.
    get_model("catalogue", "ProductRecommendation").objects.create(primary=others[0], recommendation=product, ranking=1)
    product.listed_on = others[0]
    return product


def product_page(client, product) -> str:
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def basket_page(client, product) -> str:
    response = client.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 1})
    assert response.status_code == 302
    response = client.get(reverse("basket:summary"))
    assert response.status_code == 200
    return response.content.decode()


def product_card(client, product) -> str:
    """A page that lists ``product`` as a card (Oscar's "Recommended items", ``render_product``)."""
    return product_page(client, product.listed_on)


def visible_overrides(name: str, render) -> dict[str, dict[str, bool]]:
    """For each block of Oscar's ``name``: is a shop's override of it on the page, with and without the plugin."""
    seen: dict[str, dict[str, bool]] = {}
    for block in oscar_blocks(name):
        marker = f"<i>shop-override-of-{block}</i>"
        for plugin in (True, False):
            with override_settings(TEMPLATES=loaders(shop_override(name, block), plugin=plugin)):
                seen.setdefault(block, {})["plugin" if plugin else "oscar"] = marker in render()
    return seen


def assert_every_override_applies_as_with_oscar_alone(seen: dict[str, dict[str, bool]], must_show: set[str]) -> None:
    differing = {block: found for block, found in seen.items() if found["plugin"] != found["oscar"]}
    assert differing == {}
    shown = {block for block, found in seen.items() if found["plugin"]}
    assert must_show <= shown, must_show - shown


@pytest.mark.django_db
def test_a_shop_can_override_every_block_of_the_product_page(client, shop_with_copy):
    seen = visible_overrides(DETAIL, lambda: product_page(client, shop_with_copy))

    # The blocks inside those the plugin replaces (product_main) or extends (product_info) included.
    assert_every_override_applies_as_with_oscar_alone(
        seen,
        must_show={
            "title",
            "breadcrumbs",
            "product_gallery",
            "product_main",
            "product_stock_record",
            "product_basket_form",
            "product_description",
            "product_info",
            "product_review",
            "extrascripts",
        },
    )


@pytest.mark.django_db
def test_a_shop_can_override_every_block_of_the_product_card(client, shop_with_copy):
    seen = visible_overrides(CARD, lambda: product_card(client, shop_with_copy))

    assert_every_override_applies_as_with_oscar_alone(
        seen, must_show={"product", "product_image", "product_review", "product_title", "product_price"}
    )


@pytest.mark.django_db
def test_a_shop_can_override_every_block_of_the_basket_page(client, shop_with_copy):
    seen = visible_overrides(BASKET, lambda: basket_page(client, shop_with_copy))

    assert_every_override_applies_as_with_oscar_alone(
        seen, must_show={"title", "breadcrumbs", "headertext", "content", "content_wrapper", "extrascripts"}
    )


SHOP_DETAIL = """{% extends "oscar/catalogue/detail.html" %}
{% block breadcrumbs %}<nav class="shop-crumbs">Alder &amp; Finch / Dresses</nav>{% endblock %}
{% block product_stock_record %}<p class="shop-stock">Also in our Leeds store</p>{{ block.super }}{% endblock %}
"""
SHOP_CARD = """{% extends "oscar/catalogue/partials/product.html" %}
{% block product_price %}<p class="shop-price">Member price on request</p>{% endblock %}
"""
SHOP_BASKET = """{% extends "oscar/basket/basket.html" %}
{% block headertext %}<span class="shop-basket">Your bag</span>{% endblock %}
"""


@pytest.fixture
def shop_templates(tmp_path, settings):
    """A shop's own template folder (TEMPLATES["DIRS"]) that overrides blocks of Oscar's templates."""
    for name, source in ((DETAIL, SHOP_DETAIL), (CARD, SHOP_CARD), (BASKET, SHOP_BASKET)):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    return tmp_path


@pytest.mark.django_db
def test_the_product_page_shows_the_shops_overrides_and_the_plugins_features(client, shop_with_copy, shop_templates):
    page = product_page(client, shop_with_copy)

    assert '<nav class="shop-crumbs">' in page
    assert '<p class="shop-stock">Also in our Leeds store</p>' in page
    assert "In stock" in page  # Oscar's stock record, kept by the shop's {{ block.super }}
    assert '<h1 data-oscar-llm="title">Northwind Navy Cotton Day Dress</h1>' in page
    assert "<p>A navy blue cotton dress by Northwind.</p>" in page
    assert 'data-oscar-llm-rec-block="product_similar"' in page
    assert "oscar_llm/recommendations.js" in page
    assert "Product Information" in page  # Oscar's product_info, which the plugin extends


@pytest.mark.django_db
def test_the_product_card_shows_the_shops_price_and_the_generated_title(client, shop_with_copy, shop_templates):
    page = product_card(client, shop_with_copy)

    assert '<p class="shop-price">Member price on request</p>' in page
    assert 'title="Northwind Navy Cotton Day Dress" data-oscar-llm="title"' in page


@pytest.mark.django_db
def test_the_basket_page_shows_the_shops_header_and_the_plugins_block(client, shop_with_copy, shop_templates):
    page = basket_page(client, shop_with_copy)

    assert '<span class="shop-basket">Your bag</span>' in page
    assert 'id="oscar-llm-basket-recs"' in page
    assert 'data-oscar-llm-rec-block="basket_complete"' in page
    assert "oscar_llm/recommendations.js" in page
