"""``manage.py oscar_llm_demo_data``: the demo shop a new user explores first.

The command runs twice, once per module, inside a transaction that is rolled back when the
module ends, so the other test modules never see the demo shop; its pictures go to a media
folder of the module's own.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from statistics import mean
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django.utils.html import escape
from oscar.core.loading import get_model
from oscar.core.thumbnails import get_thumbnailer
from PIL import Image

from oscar_llm.demo.pictures import BACKGROUND, PICTURE_SIZE, colour_of, draw_product_image
from oscar_llm.demo.shop import (
    ATTRIBUTE_CODES,
    GROUPS,
    IMAGE_FOLDER,
    build_catalogue,
    build_customers,
    supplier_code,
    supplier_size,
    supplier_title,
)
from oscar_llm.models import Feature, FeatureSwitch, Interaction, ShopVoice

Basket = get_model("basket", "Basket")
Category = get_model("catalogue", "Category")
Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")

pytestmark = pytest.mark.django_db

CUSTOMER_EMAIL = re.compile(r"^customer\d{2}@example\.com$")
# Brand, article, material, colour codes and the size: "PP DRS VSC CHRCL L".
CODED_TITLE = re.compile(r"^[A-Z]{2,3} [A-Z]{2,3} [A-Z]{2,3} [A-Z]{2,5} [A-Z0-9]{1,5}$")


def _counts() -> dict[str, int]:
    return {
        "products": Product.objects.count(),
        "categories": Category.objects.count(),
        "product_categories": ProductCategory.objects.count(),
        "attribute_values": ProductAttributeValue.objects.count(),
        "users": get_user_model().objects.count(),
        "orders": Order.objects.count(),
        "order_lines": get_model("order", "Line").objects.count(),
        "stock_records": StockRecord.objects.count(),
        "interactions": Interaction.objects.count(),
        "baskets": Basket.objects.count(),
        "basket_lines": get_model("basket", "Line").objects.count(),
        "images": ProductImage.objects.count(),
        "image_files": len(ProductImage._meta.get_field("original").storage.listdir(IMAGE_FOLDER)[1]),
        "feature_switches": FeatureSwitch.objects.count(),
        "shop_voices": ShopVoice.objects.count(),
    }


def _run_command() -> list[str]:
    out = StringIO()
    with override_settings(DEBUG=True):  # as bin/demo runs it
        call_command("oscar_llm_demo_data", "--json", stdout=out, stderr=StringIO())
    return out.getvalue().strip().splitlines()


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    """The pictures of this module's demo shop, away from the developer's own MEDIA_ROOT."""
    path = tmp_path_factory.mktemp("demo_media")
    with override_settings(MEDIA_ROOT=str(path)):
        yield path


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, media_root):
    """The demo shop, built by two runs of the command; rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        first_output = _run_command()
        after_first = _counts()
        second_output = _run_command()
        after_second = _counts()
        yield SimpleNamespace(
            first_output=first_output,
            second_output=second_output,
            after_first=after_first,
            after_second=after_second,
        )
        transaction.set_rollback(True)
    cache.clear()


@pytest.fixture
def demo_products(demo):
    return list(Product.objects.filter(upc__startswith="AF-").select_related("product_class"))


@pytest.fixture
def demo_customers(demo):
    return [u for u in get_user_model().objects.order_by("email") if CUSTOMER_EMAIL.match(u.email)]


def _attributes(products) -> dict[int, dict[str, str]]:
    values: dict[int, dict[str, str]] = defaultdict(dict)
    for product_id, code, value in ProductAttributeValue.objects.filter(product__in=products).values_list(
        "product_id", "attribute__code", "value_text"
    ):
        values[product_id][code] = value
    return values


def test_catalogue_has_at_least_300_public_products(demo_products):
    assert len(demo_products) >= 300
    assert all(p.is_public and p.is_standalone for p in demo_products)
    assert len({p.upc for p in demo_products}) == len(demo_products)
    assert len({p.title for p in demo_products}) == len(demo_products)


def test_every_group_of_the_shop_is_stocked(demo):
    categories = {c.full_name: c for c in Category.objects.all()}
    for group, path in GROUPS.items():
        assert path in categories, f"no category {path!r} for {group}"
        subtree = categories[path].get_descendants_and_self()
        count = Product.objects.filter(categories__in=subtree).distinct().count()
        assert count >= 30, f"{group} has only {count} products"
    for path in (
        "Women > Clothing > Dresses",
        "Men > Clothing > Shirts",
        "Shoes > Women > Heels",
        "Cosmetics > Perfume",
    ):
        assert Product.objects.filter(categories=categories[path]).exists(), path


def test_every_product_has_attributes_category_price_and_stock(demo_products):
    values = defaultdict(dict)
    for product_id, code, value in ProductAttributeValue.objects.filter(product__in=demo_products).values_list(
        "product_id", "attribute__code", "value_text"
    ):
        values[product_id][code] = value
    stock = {sr.product_id: sr for sr in StockRecord.objects.select_related("partner")}
    category_counts = Counter(ProductCategory.objects.values_list("product_id", flat=True))

    for product in demo_products:
        attrs = values[product.pk]
        assert set(ATTRIBUTE_CODES) <= set(attrs), product.upc
        assert all(attrs[code].strip() for code in ATTRIBUTE_CODES), (product.upc, attrs)
        assert attrs["gender"] in {"Women", "Men", "Unisex"}
        assert attrs["season"] in {"Spring", "Summer", "Fall", "Winter"}
        assert attrs["usage"] in {"Casual", "Formal", "Sports", "Party", "Ethnic"}
        # The title is built from the product's own facts (a feed's title codes them).
        if product.description:
            assert product.title.startswith(f"{attrs['brand']} {attrs['gender']} "), product.title
            assert attrs["material"] in product.title, product.title
        else:
            assert CODED_TITLE.match(product.title), product.title
        assert product.product_class is not None
        assert category_counts[product.pk] == 1, product.upc
        record = stock[product.pk]
        assert record.partner.name == "Alder & Finch Warehouse"
        assert record.price_currency == "GBP"
        assert Decimal("1") < record.price < Decimal("1000")
        assert record.partner_sku


def test_some_products_are_sold_out_but_most_are_available(demo_products):
    records = StockRecord.objects.filter(product__in=demo_products)
    sold_out = records.filter(num_in_stock=0).count()
    assert 0.02 * len(demo_products) <= sold_out <= 0.10 * len(demo_products)


def test_prices_depend_on_what_is_sold(demo_products):
    by_class = defaultdict(list)
    for record in StockRecord.objects.select_related("product__product_class").filter(product__in=demo_products):
        by_class[record.product.product_class.name].append(record.price)
    assert set(by_class) == {"Clothing", "Shoes", "Bags", "Accessories", "Cosmetics"}
    assert mean(by_class["Cosmetics"]) < mean(by_class["Clothing"]) < mean(by_class["Shoes"])


def test_about_forty_percent_arrive_from_a_supplier_feed(demo_products):
    """Titles coded from their own attributes, no description, no meta description."""
    specs = {spec.upc: spec for spec in build_catalogue()}
    values = _attributes(demo_products)
    feed = [p for p in demo_products if not p.description]
    assert 0.35 <= len(feed) / len(demo_products) <= 0.45
    for product in feed:
        spec = specs[product.upc]
        assert spec.from_supplier
        assert product.description == "" and product.meta_description == ""
        assert CODED_TITLE.match(product.title), product.title
        assert product.title == supplier_title(spec.type, values[product.pk])
    for product in demo_products:
        assert specs[product.upc].from_supplier == (not product.description), product.upc
    # Every kind of product has written copy to learn from and feed products to write copy for.
    kinds = defaultdict(set)
    for link in ProductCategory.objects.filter(product__in=demo_products).select_related("category", "product"):
        kinds[link.category.full_name].add(bool(link.product.description))
    assert all(found == {True, False} for found in kinds.values()), kinds


def test_supplier_codes_follow_from_the_values():
    assert supplier_title(build_catalogue()[0].type, {}.fromkeys(ATTRIBUTE_CODES, "X")) == "X DRS X X X"
    assert [supplier_code(v) for v in ("Pebble & Pine", "Dress", "Viscose", "Eau de Parfum", "T-Shirt")] == [
        "PP",
        "DRS",
        "VSC",
        "EDP",
        "TS",
    ]
    assert supplier_code("Charcoal", 5) == "CHRCL"
    assert [supplier_size(v) for v in ("L", "UK 7", "50 ml", "One Size")] == ["L", "UK7", "50ML", "OS"]
    # One code per value in every slot, so a coded title still says which product it is.
    catalogue = build_catalogue()
    slots = {
        "brand": {s.attributes["brand"] for s in catalogue},
        "article": {s.type.noun for s in catalogue},
        "material": {s.attributes["material"] for s in catalogue},
    }
    for slot, found in slots.items():
        assert len({supplier_code(v) for v in found}) == len(found), slot
    colours = {s.attributes["colour"] for s in catalogue}
    assert len({supplier_code(c, 5) for c in colours}) == len(colours)


def test_the_catalogue_is_the_same_for_the_same_seed():
    first, again, other = build_catalogue(), build_catalogue(), build_catalogue(7)
    assert first == again
    assert [s.upc for s in first if s.from_supplier] != [s.upc for s in other if s.from_supplier]


def test_descriptions_state_only_the_products_own_facts(demo_products):
    values = _attributes(demo_products)
    written = [p for p in demo_products if p.description]
    assert len(written) >= 0.55 * len(demo_products)
    for product in written:
        attrs = values[product.pk]
        sentences = [s for s in re.split(r"(?<=\.)\s+", product.description.strip()) if s]
        assert 2 <= len(sentences) <= 4, product.description
        assert attrs["material"].lower() in product.description.lower()
        # The size is the only number a description may carry.
        assert not re.search(r"\d", product.description.replace(attrs["size"], "")), product.description
        assert product.meta_description.count(".") == 1 and product.meta_description.endswith(".")
        assert not re.search(r"\d", product.meta_description.replace(attrs["size"], "")), product.meta_description
    # Not one template repeated: the copy reads like people wrote it.
    assert len({p.description for p in written}) == len(written)


def test_every_product_has_a_picture_of_its_article_in_its_colour(demo_products):
    values = _attributes(demo_products)
    images = defaultdict(list)
    for image in ProductImage.objects.filter(product__in=demo_products):
        images[image.product_id].append(image)
    for product in demo_products:
        (image,) = images[product.pk]
        assert image.display_order == 0
        assert image.original.name.startswith(IMAGE_FOLDER + "/")
        with Image.open(image.original) as picture:
            assert picture.size == (PICTURE_SIZE, PICTURE_SIZE)
            pixels = picture.convert("RGB").getcolors(PICTURE_SIZE * PICTURE_SIZE)
        counts = {colour: n for n, colour in pixels}
        total = PICTURE_SIZE * PICTURE_SIZE
        assert counts.get(BACKGROUND, 0) > 0.4 * total, product.title  # a clean, light background
        colour = colour_of(values[product.pk]["colour"])
        assert counts.get(colour, 0) > 0.01 * total, (product.title, values[product.pk]["colour"])


def test_pictures_show_each_article_its_own_shape():
    drawn = {article: draw_product_image(article, "Navy Blue") for article in ("Dress", "Jeans", "Boots", "Watch")}
    assert len(set(drawn.values())) == 4
    assert draw_product_image("Dress", "Navy Blue") == drawn["Dress"]  # deterministic
    assert draw_product_image("Dress", "Red") != drawn["Dress"]
    # An article without a drawing of its own still gets a picture.
    assert draw_product_image("Umbrella", "Red").startswith(b"\x89PNG")


def _thumbnail_url(image, size: str) -> str:
    """The URL Oscar's templates give the thumbnail of ``image`` (same thumbnailer, same options)."""
    return get_thumbnailer().generate_thumbnail(image.original, size=size, upscale=False).url


def test_running_twice_duplicates_nothing(demo):
    assert demo.after_first == demo.after_second
    second = json.loads(demo.second_output[-1])
    assert set(second["created"].values()) == {0}


def test_json_summary_is_the_last_line(demo):
    summary = json.loads(demo.first_output[-1])
    assert summary["products"] >= 300
    assert summary["images"] == summary["products"] == summary["created"]["images"]
    assert summary["customers"] == 25
    assert summary["categories"] == demo.after_first["categories"]
    assert summary["orders"] == demo.after_first["orders"]
    assert summary["interactions"] == demo.after_first["interactions"]
    assert summary["baskets"] >= 1
    assert summary["staff_email"] == "staff@example.com"
    assert summary["created"]["products"] == summary["products"]
    # The human summary sits on the line above.
    assert demo.first_output[0].startswith("Demo shop ready")


def test_customers_have_browsing_baskets_and_orders(demo_customers):
    assert len(demo_customers) == 25
    assert demo_customers[0].check_password("demo-password")
    since = timezone.now() - timedelta(days=61)
    with_orders = with_baskets = 0
    for user in demo_customers:
        assert user.has_usable_password()
        events = Counter(Interaction.objects.filter(user=user).values_list("event", flat=True))
        assert events[Interaction.Event.VIEW] >= 10, user.email
        assert not Interaction.objects.filter(user=user, created_at__lt=since).exists()

        orders = list(Order.objects.filter(user=user).prefetch_related("lines"))
        assert len(orders) <= 3
        with_orders += bool(orders)
        for order in orders:
            assert order.number.isdigit()
            assert order.status in {"Pending", "Shipped", "Delivered"}
            assert since < order.date_placed < timezone.now()
            assert order.shipping_address.country.iso_3166_1_a2 == "GB"
            assert order.total_incl_tax == sum(line.line_price_incl_tax for line in order.lines.all())
            assert 1 <= order.lines.count() <= 3
        purchased = {line.product_id for order in orders for line in order.lines.all()}
        bought = set(
            Interaction.objects.filter(user=user, event=Interaction.Event.PURCHASE).values_list("product_id", flat=True)
        )
        assert bought == purchased, user.email

        basket = Basket.open.filter(owner=user).first()
        if basket is not None:
            with_baskets += 1
            assert 1 <= basket.num_lines <= 3
    assert with_orders >= 15
    assert 8 <= with_baskets <= 17
    assert Order.objects.filter(user__in=demo_customers).values("status").distinct().count() == 3


def test_customers_browse_their_own_segment(demo_customers):
    """Each customer mostly browses one gender and one price level, so segments mean something."""
    profiles = {p.email: p for p in build_customers()}
    cheap, premium = [], []
    for user in demo_customers:
        profile = profiles[user.email]
        views = Interaction.objects.filter(user=user, event=Interaction.Event.VIEW)
        genders = Counter(
            ProductAttributeValue.objects.filter(
                attribute__code="gender", product__in=views.values("product")
            ).values_list("value_text", flat=True)
        )
        own = genders[profile.gender] + genders["Unisex"]
        assert own >= 0.7 * sum(genders.values()), (user.email, genders)
        prices = StockRecord.objects.filter(product__in=views.values("product")).values_list("price", flat=True)
        (cheap if profile.price_level == "cheap" else premium).append(mean(prices))
    assert mean(premium) > Decimal("1.3") * mean(cheap)


def test_staff_can_open_the_dashboard(demo, client):
    assert client.login(username="staff@example.com", password="staff-password")
    response = client.get("/dashboard/")
    assert response.status_code == 200


def test_customer_can_log_in_and_sees_their_basket(demo, client):
    basket = Basket.open.filter(owner__email__regex=CUSTOMER_EMAIL.pattern).order_by("owner__email").first()
    assert client.login(username=basket.owner.email, password="demo-password")
    response = client.get("/basket/")
    assert response.status_code == 200
    for line in basket.all_lines():
        assert escape(line.product.get_title()) in response.content.decode()
        # Its picture, as Oscar's basket thumbnail, not "Image Not Available".
        image = line.product.primary_image()
        assert not isinstance(image, dict), "the product has no picture"
        assert f'src="{_thumbnail_url(image, "100x100")}"' in response.content.decode()


def test_product_pages_show_the_products_picture(demo, client):
    for product in Product.objects.filter(upc__startswith="AF-").order_by("pk")[::80]:
        response = client.get(product.get_absolute_url())
        assert response.status_code == 200
        image = product.primary_image()
        assert not isinstance(image, dict), product.upc
        html = response.content.decode()
        assert f'src="{_thumbnail_url(image, "440x400")}"' in html, product.upc


def test_every_feature_is_switched_on(demo):
    for feature in Feature:
        assert FeatureSwitch.is_enabled(feature), feature
    assert ShopVoice.objects.exists()


def test_the_demo_leaves_a_campaign_ready_for_review(demo, client):
    from oscar_llm.demo.marketing import CAMPAIGN_NAME
    from oscar_llm.marketing import campaigns
    from oscar_llm.models import Campaign, Job, MarketingConsent

    campaign = Campaign.objects.get(name=CAMPAIGN_NAME)
    assert campaign.segments.exists() and campaign.products.exists()
    assert campaigns.offer_terms(campaign)["percent"] == 20
    assert MarketingConsent.objects.filter(opted_in=True).count() >= 15
    job = Job.objects.get(kind=campaigns.COPY_JOB, target_id=campaign.pk)
    assert job.status == Job.Status.PENDING  # the worker bin/demo starts writes it
    variants = campaigns.write_copy(campaign, generator=None)  # what that worker does, without a model
    assert len(variants) == 2 and all(v.status == "draft" for v in variants), [v.reasons for v in variants]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.REVIEW
    assert client.login(username="staff@example.com", password="staff-password")
    page = client.get(f"/dashboard/llm/marketing/{campaign.pk}/")
    assert page.status_code == 200 and variants[0].subject in page.content.decode()


def test_the_demo_runs_an_experiment_on_the_basket_block(demo, client):
    from oscar_llm.demo.experiments import NAME
    from oscar_llm.models import BlockCode, Experiment

    experiment = Experiment.objects.get(name=NAME)
    assert experiment.status == Experiment.Status.RUNNING
    assert experiment.block == BlockCode.BASKET
    assert sorted(experiment.arms.values_list("is_control", flat=True)) == [False, True]
    assert client.login(username="staff@example.com", password="staff-password")
    page = client.get(f"/dashboard/llm/experiments/{experiment.pk}/")
    assert page.status_code == 200 and "Complete your basket" in page.content.decode()
