"""Facts -> prompt -> generate (tiny real model) -> checks -> draft -> publish -> storefront."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from oscar_llm.catalogue import product_facts
from oscar_llm.content import services
from oscar_llm.models import ContentDraft, ContentVersion, CustomerSegment, Feature, FeatureSwitch, Job, ShopVoice
from tests.workers import run_in_web_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def copy_on(db):
    FeatureSwitch.objects.update_or_create(feature=Feature.PRODUCT_COPY, defaults={"enabled": True})
    cache.clear()


def title_on_page(client, product) -> str:
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('data-oscar-llm="title">') + len('data-oscar-llm="title">')
    return html[start : html.index("</h1>", start)].strip()


def make_draft(product, text, kind="title", segment="default", **kw):
    return ContentDraft.objects.create(
        product=product, kind=kind, segment=segment, text=text, facts=product_facts(product), **kw
    )


def test_product_facts_are_read_from_the_catalogue(make_product):
    product = make_product(colour="Olive", material="Linen", price="59.00")
    facts = product_facts(product)
    assert facts["attributes"]["colour"] == "Olive"
    assert facts["attributes"]["material"] == "Linen"
    assert facts["attributes"]["article_type"] == "Dresses"
    assert facts["category"] == "Women > Clothing > Dresses"
    assert facts["price"] == "59.00" and facts["currency"] == "GBP" and facts["in_stock"] is True


def test_generation_writes_checked_drafts_for_every_kind_and_segment(
    make_product, tiny_model, copy_on, django_capture_on_commit_callbacks
):
    # A supplier-feed product: coded title, no description. It gets every variant.
    product = make_product("NW DRS CTN NVBL M", description="")
    with django_capture_on_commit_callbacks(execute=True):
        created = services.request_generation(product)
    assert len(created) == 1 + 3 + 3  # one title (shared by the segments), then a variant per segment
    drafts = ContentDraft.objects.filter(product=product)
    assert drafts.count() == 7
    assert list(drafts.filter(kind="title").values_list("segment", flat=True)) == ["default"]
    for kind in ("description", "meta_description"):
        assert set(drafts.filter(kind=kind).values_list("segment", flat=True)) == {"default", "value", "premium"}
    for draft in drafts:
        assert draft.text.strip(), draft
        assert draft.model_id and draft.prompt_version
        if draft.status == ContentDraft.Status.REJECTED:
            assert draft.reasons, "a rejected draft keeps its reasons"
        else:
            assert draft.reasons == []
    assert not Job.objects.exclude(status=Job.Status.DONE).exists()
    # Asking again for unchanged facts creates nothing (idempotent by input hash).
    assert services.request_generation(product) == []
    # Changing a fact creates new work.
    product.attr.colour = "Black"
    product.attr.save()
    assert len(services.request_generation(product, kinds=["title"])) == 1
    # Named segments are always written (the dashboard's regenerate).
    assert len(services.request_generation(product, kinds=["title"], segments=["value", "premium"])) == 2


def test_copy_the_shop_wrote_is_the_default_variant_and_only_segment_variants_are_written(make_product):
    product = make_product()  # a title and a description the shop wrote
    created = services.request_generation(product, send=False)  # automatic: a product change, bulk
    assert sorted((j.params["kind"], j.params["segment"]) for j in created) == [
        ("description", "premium"),
        ("description", "value"),
        ("meta_description", "premium"),
        ("meta_description", "value"),
    ]
    # Staff who name a kind get it, the shop's own copy notwithstanding (an echo is "no change proposed").
    other = make_product("Northwind Women Black Cotton Dress", colour="Black")
    named = services.request_generation(other, kinds=["title", "description"], send=False)
    assert sorted((j.params["kind"], j.params["segment"]) for j in named) == [
        ("description", "default"),
        ("description", "premium"),
        ("description", "value"),
        ("title", "default"),
    ]


def test_product_page_renders_and_dashboard_shows_error_when_model_is_missing(
    client, admin_client, make_product, settings, copy_on, django_capture_on_commit_callbacks, tmp_path
):
    from oscar_llm.llm import registry

    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "MODEL": None, "MODEL_DIR": str(tmp_path / "no-model-here")}
    registry.clear()
    product = make_product(title="Northwind Women Navy Blue Cotton Dress")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_generation(product, kinds=["title"], segments=["default"])
    job = Job.objects.get(kind="content.title")
    assert job.status == Job.Status.PENDING  # waiting for its retry, with the error recorded
    assert "no-model-here" in job.error and "oscar_llm_train" in job.error
    assert title_on_page(client, product) == "Northwind Women Navy Blue Cotton Dress"
    page = admin_client.get("/dashboard/llm/jobs/").content.decode()
    assert "no-model-here" in page


def test_auto_publish_puts_accepted_copy_live(make_product, tiny_model, client, django_capture_on_commit_callbacks):
    FeatureSwitch.objects.update_or_create(
        feature=Feature.PRODUCT_COPY, defaults={"enabled": True, "auto_publish": True}
    )
    cache.clear()
    product = make_product("NW DRS CTN NVBL M", description="")  # a supplier's coded title
    with django_capture_on_commit_callbacks(execute=True):
        services.request_generation(product, kinds=["title"], segments=["default"])
    draft = ContentDraft.objects.get(product=product)
    if draft.status in (ContentDraft.Status.REJECTED, ContentDraft.Status.NO_CHANGE):
        assert title_on_page(client, product) == product.title
    else:
        assert draft.status == ContentDraft.Status.APPROVED
        assert title_on_page(client, product) == draft.text
        assert ContentVersion.objects.get(product=product, is_current=True).source == "auto"


def test_publish_reject_rollback_and_segments_on_the_storefront(client, make_product, staff_user, customer, copy_on):
    product = make_product(title="Northwind Women Navy Blue Cotton Dress")
    original = product.title
    draft = make_draft(product, "Northwind Navy Blue Cotton Dress for Women")
    assert title_on_page(client, product) == original  # a draft is not published
    first = services.publish(draft, by=staff_user)
    assert title_on_page(client, product) == "Northwind Navy Blue Cotton Dress for Women"

    rejected = make_draft(
        product,
        "Northwind Women Black Cotton Dress",
        status=ContentDraft.Status.REJECTED,
        reasons=[{"check": "colour", "message": "..."}],
    )
    with pytest.raises(ValueError):
        services.publish(rejected, by=staff_user)
    assert title_on_page(client, product) == "Northwind Navy Blue Cotton Dress for Women"

    second = services.publish(
        make_draft(product, "Navy Blue Cotton Dress by Northwind"),
        by=staff_user,
        text="Navy Blue Cotton Dress by Northwind, for Women",
    )
    assert second.source == ContentVersion.Source.EDITED
    assert title_on_page(client, product) == "Navy Blue Cotton Dress by Northwind, for Women"

    services.rollback(first, by=staff_user)
    assert title_on_page(client, product) == "Northwind Navy Blue Cotton Dress for Women"
    original_version = ContentVersion.objects.get(product=product, kind="title", source="original")
    assert original_version.text == original
    services.rollback(original_version, by=staff_user)
    assert title_on_page(client, product) == original
    product.refresh_from_db()
    assert product.title == original  # the product row itself was never overwritten

    # Segments: a premium customer sees the premium variant; anonymous visitors the default.
    services.publish(make_draft(product, "Northwind Cotton Dress in Navy Blue", segment="premium"), by=staff_user)
    CustomerSegment.objects.create(user=customer, segment="premium")
    client.force_login(customer)
    assert title_on_page(client, product) == "Northwind Cotton Dress in Navy Blue"
    client.logout()
    assert title_on_page(client, product) == original


def test_published_copy_is_off_when_the_feature_is_switched_off(client, make_product, staff_user, copy_on):
    product = make_product()
    services.publish(make_draft(product, "Northwind Navy Blue Cotton Dress for Women"), by=staff_user)
    FeatureSwitch.set(Feature.PRODUCT_COPY, enabled=False)
    assert title_on_page(client, product) == product.title


def test_meta_description_and_description_are_rendered_sanitised(client, make_product, staff_user, copy_on):
    product = make_product()
    services.publish(
        make_draft(product, "A navy blue cotton dress by Northwind.", kind="meta_description"), by=staff_user
    )
    services.publish(
        make_draft(product, "<p>A navy blue cotton dress.</p>", kind="description"),
        by=staff_user,
        text='<p>A navy blue cotton dress.</p><script>alert("x")</script>',
    )
    html = client.get(product.get_absolute_url()).content.decode()
    assert '<meta name="description" content="A navy blue cotton dress by Northwind." />' in html
    assert "<p>A navy blue cotton dress.</p>" in html
    assert 'alert("x")' not in html


def test_shop_voice_limits_take_effect_without_restart(
    make_product, tiny_model, copy_on, django_capture_on_commit_callbacks
):
    voice, _ = ShopVoice.objects.get_or_create(pk=1)
    voice.title_max_length = 5
    voice.save()
    product = make_product()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_generation(product, kinds=["title"], segments=["default"])
    draft = ContentDraft.objects.get(product=product)
    assert draft.status == ContentDraft.Status.REJECTED
    assert any(r["check"] == "length" for r in draft.reasons)


@pytest.mark.django_db(transaction=True)
def test_web_process_never_imports_torch_or_transformers(make_product, staff_user, copy_on):
    """Render a product page and call the API in a fresh process; check the imported modules."""
    product = make_product()
    services.publish(make_draft(product, "Northwind Navy Blue Cotton Dress for Women"), by=staff_user)
    body = """
c = Client()
r1 = c.get(sys.argv[1])
r2 = c.get("/api/llm/schema/")
assert "Northwind Navy Blue Cotton Dress for Women" in r1.content.decode()
# Queueing work (dashboard, API) needs the model id, but not the model.
from oscar_llm.llm.registry import configured_model_id
configured_model_id()
result["status"] = [r1.status_code, r2.status_code]
"""
    result = run_in_web_process(body, product.get_absolute_url())
    assert result["heavy"] == []
    assert result["status"] == [200, 200]
