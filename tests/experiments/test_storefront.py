"""Product copy experiments on the storefront: assignment, exposures, outcomes from Oscar's own views, results."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from oscar_llm.experiments import assignment, exposures, services
from oscar_llm.models import Arm, ContentVersion, Experiment, ExperimentExposure, Feature, FeatureSwitch
from tests.experiments.helpers import GENERATED, start_title_experiment

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(make_product, staff_user):
    FeatureSwitch.objects.update_or_create(feature=Feature.PRODUCT_COPY, defaults={"enabled": True})
    cache.clear()
    product = make_product(title="Northwind Women Navy Blue Cotton Dress")
    other = make_product(title="Tarn Men Olive Linen Shirt", category="Men > Clothing > Shirts")
    experiment = start_title_experiment(product, staff_user)
    return product, other, experiment


def title_on_page(client: Client, product) -> str:
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('data-oscar-llm="title">') + len('data-oscar-llm="title">')
    return html[start : html.index("</h1>", start)].strip()


def checkout(client: Client) -> None:
    """Oscar's own checkout views, as a signed-in customer: address, method, preview, place the order."""
    response = client.get(reverse("checkout:shipping-address"))
    assert response.status_code == 200, response.status_code
    from oscar.core.loading import get_model

    country = get_model("address", "Country").objects.get_or_create(
        iso_3166_1_a2="GB", defaults={"name": "United Kingdom", "is_shipping_country": True}
    )[0]
    response = client.post(
        reverse("checkout:shipping-address"),
        {
            "first_name": "Alice",
            "last_name": "Shopper",
            "line1": "1 High Street",
            "line4": "London",
            "postcode": "N1 9GU",
            "country": country.pk,
            "phone_number": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.get(reverse("checkout:shipping-method"), follow=True)
    assert response.status_code == 200
    response = client.get(reverse("checkout:payment-details"), follow=True)
    assert response.status_code == 200
    response = client.post(reverse("checkout:preview"), {"action": "place_order"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "thank-you" in response["Location"]


def test_visitors_are_split_sticky_and_counted(shop, django_user_model) -> None:
    product, other, experiment = shop
    arms = {a.variant: a for a in experiment.arms.all()}
    seen: dict[str, list[Client]] = {GENERATED: [], product.title: []}
    for _ in range(24):
        client = Client()
        title = title_on_page(client, product)
        assert title in seen
        assert title_on_page(client, product) == title  # sticky within the visitor
        assert title_on_page(client, other) == other.title  # out of scope: untouched, not exposed
        seen[title].append(client)
    assert seen[GENERATED] and seen[product.title]  # both arms get visitors

    exposures.flush()
    rows = ExperimentExposure.objects.filter(experiment=experiment)
    assert rows.count() == 24  # one row per visitor, not per page view
    assert rows.filter(arm=arms[Arm.Variant.GENERATED]).count() == len(seen[GENERATED])
    assert rows.filter(arm=arms[Arm.Variant.ORIGINAL]).count() == len(seen[product.title])
    for row in rows:
        assert row.product_ids == [product.pk]
        expected = assignment.pick(
            [{"id": a.pk} for a in experiment.arms.all()], [1, 1], assignment.bucket(experiment.salt, row.unit)
        )
        assert row.arm_id == expected["id"]  # the deterministic hash decided

    # Basket additions through Oscar's view count for the visitor's row.
    buyer = seen[GENERATED][0]
    response = buyer.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 1})
    assert response.status_code == 302
    unit = buyer.session.get(assignment.UNIT_SESSION_KEY)
    row = rows.get(unit=unit or buyer.session["oscar_llm_visitor"])
    assert row.basket_additions == 1 and row.orders == 0

    # The visitor signs in (the arm stays: the account keeps the visitor's key) and checks out.
    customer = django_user_model.objects.create_user(username="buyer", email="buyer@example.com", password="pw-12345")
    buyer.force_login(customer)
    assert title_on_page(buyer, product) == GENERATED
    checkout(buyer)
    row.refresh_from_db()
    assert row.user_id == customer.pk
    assert row.orders == 1 and row.converted_at is not None
    assert row.revenue == product.stockrecords.first().price  # the exposed product's order line

    # A second device of the same customer sees the same arm.
    other_device = Client()
    other_device.force_login(customer)
    assert title_on_page(other_device, product) == GENERATED

    data = services.results(experiment)
    by_id = {a["id"]: a for a in data["arms"]}
    treatment = by_id[arms[Arm.Variant.GENERATED].pk]
    assert treatment["visitors"] == len(seen[GENERATED])
    assert treatment["conversions"] == 1 and float(treatment["revenue"]) == float(row.revenue)
    assert by_id[arms[Arm.Variant.ORIGINAL].pk]["conversions"] == 0
    assert data["srm"] is not None and 0 <= data["srm"]["p_value"] <= 1
    assert 0 < treatment["chance_to_beat_control"] <= 1
    assert data["sample_size_per_arm"] > 0
    assert services.timeline(experiment)[-1]["arms"][0]["visitors"] == len(seen[GENERATED])


def test_rolling_out_the_control_restores_the_original_copy(shop, staff_user) -> None:
    product, _other, experiment = shop
    control = experiment.arms.get(is_control=True)
    with pytest.raises(services.ExperimentError):
        services.roll_out(experiment, Arm.objects.exclude(experiment=experiment).first() or Arm(experiment_id=0))
    services.roll_out(experiment, control, by=staff_user)
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.STOPPED and experiment.winner_id == control.pk
    current = ContentVersion.objects.get(product=product, kind="title", is_current=True)
    assert current.source == ContentVersion.Source.ORIGINAL
    assert title_on_page(Client(), product) == product.title
    with pytest.raises(services.ExperimentError):
        services.roll_out(experiment, control, by=staff_user)


def test_rolling_out_the_generated_copy_keeps_it_for_everyone(shop, staff_user) -> None:
    product, _other, experiment = shop
    services.roll_out(experiment, experiment.arms.get(is_control=False), by=staff_user)
    for _ in range(5):
        assert title_on_page(Client(), product) == GENERATED
    exposures.flush()
    assert not ExperimentExposure.objects.exists()  # a stopped experiment exposes nobody


def test_dashboard_shows_the_arms_as_in_the_database_and_rolls_out(shop, staff_user, client) -> None:
    import csv
    import io
    import re

    product, _other, experiment = shop
    for _ in range(12):
        visitor = Client()
        title_on_page(visitor, product)
        visitor.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 1})
    client.force_login(staff_user)
    response = client.get(reverse("oscar_llm_dashboard:experiment-detail", kwargs={"pk": experiment.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    for arm in experiment.arms.all():
        rows = ExperimentExposure.objects.filter(experiment=experiment, arm=arm)
        row_html = html[html.index(f'<tr data-arm="{arm.pk}">') :]
        visitors = re.search(r'data-oscar-llm="arm-visitors">(\d+)<', row_html).group(1)
        assert int(visitors) == rows.count()
    assert (
        sum(int(v) for v in re.findall(r'data-oscar-llm="arm-visitors">(\d+)<', html)) == 12
        and 'data-oscar-llm="srm"' in html
    )
    assert 'data-oscar-llm="plot"' in html and "<polyline" in html

    export = client.get(reverse("oscar_llm_dashboard:experiment-csv", kwargs={"pk": experiment.pk}))
    table = list(csv.reader(io.StringIO(export.content.decode())))
    assert table[0] == services.CSV_HEADER and len(table) == 3
    assert sum(int(r[3]) for r in table[1:]) == 12

    treatment = experiment.arms.get(is_control=False)
    response = client.post(
        reverse("oscar_llm_dashboard:experiment-roll-out", kwargs={"pk": experiment.pk}), {"arm": treatment.pk}
    )
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.winner_id == treatment.pk and experiment.status == Experiment.Status.STOPPED
    bad = client.post(reverse("oscar_llm_dashboard:experiment-roll-out", kwargs={"pk": experiment.pk}), {"arm": "x"})
    assert bad.status_code == 302


def test_creating_an_experiment_from_the_dashboard_validates_input(staff_user, client, make_product) -> None:
    product = make_product()
    client.force_login(staff_user)
    url = reverse("oscar_llm_dashboard:experiment-create")
    bad = client.post(url, {"name": "x", "kind": "product_copy", "scope": "products", "product_ids": "12a"})
    assert bad.status_code == 400 and not Experiment.objects.exists()
    good = client.post(
        url,
        {
            "name": "Titles <b>test</b>",
            "kind": "product_copy",
            "copy_kind": "title",
            "scope": "products",
            "product_ids": str(product.pk),
            "mode": "ab",
            "primary_metric": "order",
            "minimum_lift": "0.1",
        },
    )
    assert good.status_code == 302
    experiment = Experiment.objects.get()
    assert experiment.arms.count() == 2 and experiment.status == Experiment.Status.DRAFT
    page = client.get(good["Location"]).content.decode()
    assert "Titles &lt;b&gt;test&lt;/b&gt;" in page and "<b>test</b>" not in page
    assert client.post(reverse("oscar_llm_dashboard:experiment-start", kwargs={"pk": experiment.pk})).status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING
