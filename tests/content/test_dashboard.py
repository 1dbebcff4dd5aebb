"""The review dashboard: staff approve, edit, reject and roll back generated product copy."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.urls import reverse

from oscar_llm.catalogue import product_facts
from oscar_llm.dashboard.utils import word_diff
from oscar_llm.models import ContentDraft, ContentVersion, FeatureSwitch, Job

pytestmark = pytest.mark.django_db


def url(name: str, **kwargs) -> str:
    return reverse(f"oscar_llm_dashboard:{name}", kwargs=kwargs)


@pytest.fixture
def copy_on(db):
    # Saved inside the test's transaction, so the "generate everything" job the switch
    # queues on commit never runs (no model is loaded in these tests).
    FeatureSwitch.objects.update_or_create(feature="product_copy", defaults={"enabled": True})
    cache.clear()


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def make_draft(product, text: str, kind: str = "title", **fields) -> ContentDraft:
    return ContentDraft.objects.create(product=product, kind=kind, text=text, facts=product_facts(product), **fields)


def shown_title(client, product) -> str:
    cache.clear()  # other processes see new copy after the cache timeout; this test needn't wait
    html = client.get(product.get_absolute_url()).content.decode()
    match = re.search(r'<h1 data-oscar-llm="title">(.*?)</h1>', html, re.S)
    assert match, "the product page has no generated-title slot"
    return match.group(1).strip()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- access --------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_dashboard_login(client, make_product):
    draft = make_draft(make_product(), "Navy Cotton Dress")
    response = client.get(url("draft-list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("dashboard:login"))
    response = client.post(url("draft-approve", pk=draft.pk))
    assert response.status_code == 302
    assert response.url.startswith(reverse("dashboard:login"))
    assert not ContentVersion.objects.exists()


def test_customers_cannot_see_or_post(client, customer, make_product, copy_on):
    product = make_product(title="Plain Dress")
    draft = make_draft(product, "Navy Cotton Dress")
    version_draft = make_draft(product, "Navy Dress", kind="description")
    client.force_login(customer)
    for name, kwargs in [
        ("draft-list", {}),
        ("draft-detail", {"pk": draft.pk}),
        ("product-history", {"product_pk": product.pk}),
        ("job-list", {}),
    ]:
        assert client.get(url(name, **kwargs)).status_code == 403, name
    for name, kwargs, data in [
        ("draft-approve", {"pk": draft.pk}, {}),
        ("draft-edit-approve", {"pk": draft.pk}, {"text": "Hacked"}),
        ("draft-reject", {"pk": version_draft.pk}, {"reason": "no"}),
        ("draft-bulk-approve", {}, {"drafts": [draft.pk]}),
        ("product-regenerate", {"product_pk": product.pk}, {}),
        ("generate-all", {}, {}),
        ("job-sweep", {}, {}),
    ]:
        assert client.post(url(name, **kwargs), data).status_code == 403, name
    assert not ContentVersion.objects.exists()
    assert not Job.objects.exists()
    assert set(ContentDraft.objects.values_list("status", flat=True)) == {"draft"}
    assert shown_title(client, product) == "Plain Dress"


def test_staff_need_the_review_permission_to_publish(client, django_user_model, make_product, copy_on):
    product = make_product(title="Plain Dress")
    draft = make_draft(product, "Navy Cotton Dress")
    clerk = django_user_model.objects.create_user(
        username="clerk", email="clerk@example.com", password="x", is_staff=True
    )
    client.force_login(clerk)
    assert client.get(url("draft-list")).status_code == 403
    assert client.get(url("draft-detail", pk=draft.pk)).status_code == 403
    assert client.post(url("draft-approve", pk=draft.pk)).status_code == 403
    assert not ContentVersion.objects.exists()

    clerk.user_permissions.add(Permission.objects.get(codename="review_contentdraft"))
    clerk = django_user_model.objects.get(pk=clerk.pk)  # drop the permission cache
    client.force_login(clerk)
    assert client.get(url("draft-detail", pk=draft.pk)).status_code == 200
    assert client.post(url("draft-approve", pk=draft.pk)).status_code == 302
    assert shown_title(client, product) == "Navy Cotton Dress"


def test_language_models_menu_is_in_the_dashboard(staff_client):
    html = staff_client.get(reverse("dashboard:index")).content.decode()
    assert url("draft-list") in html
    assert url("job-list") in html


# --- reviewing -----------------------------------------------------------------------------------


def test_approve_shows_the_draft_on_the_product_page(staff_client, staff_user, make_product, copy_on):
    product = make_product(title="Plain Dress")
    draft = make_draft(product, "Northwind Navy Blue Cotton Dress")
    assert shown_title(staff_client, product) == "Plain Dress"

    response = staff_client.post(url("draft-approve", pk=draft.pk), follow=True)

    assert response.redirect_chain[-1][0] == url("draft-list")
    assert any("Published the title" in m for m in messages_of(response))
    assert shown_title(staff_client, product) == "Northwind Navy Blue Cotton Dress"
    draft.refresh_from_db()
    assert draft.status == ContentDraft.Status.APPROVED
    assert draft.reviewed_by == staff_user
    current = ContentVersion.objects.get(product=product, kind="title", is_current=True)
    assert current.source == ContentVersion.Source.GENERATED
    assert current.created_by == staff_user


def test_edit_and_approve_publishes_the_edited_text(staff_client, make_product, copy_on):
    product = make_product(title="Plain Dress")
    draft = make_draft(product, "Northwind Navy Dress")

    response = staff_client.post(
        url("draft-edit-approve", pk=draft.pk), {"text": "Northwind Navy Blue Summer Dress"}, follow=True
    )

    assert any("Published your edited title" in m for m in messages_of(response))
    assert shown_title(staff_client, product) == "Northwind Navy Blue Summer Dress"
    version = ContentVersion.objects.get(product=product, kind="title", is_current=True)
    assert version.source == ContentVersion.Source.EDITED
    assert version.text == "Northwind Navy Blue Summer Dress"
    draft.refresh_from_db()
    assert draft.edited and draft.status == ContentDraft.Status.APPROVED


def test_edit_and_approve_needs_text(staff_client, make_product, copy_on):
    product = make_product(title="Plain Dress")
    draft = make_draft(product, "Northwind Navy Dress")
    response = staff_client.post(url("draft-edit-approve", pk=draft.pk), {"text": "   "})
    assert response.status_code == 200
    assert "Enter the text to publish." in response.content.decode()
    assert not ContentVersion.objects.exists()


def test_reject_keeps_the_product_page_unchanged(staff_client, staff_user, make_product, copy_on):
    product = make_product(title="Plain Dress")
    draft = make_draft(product, "Best Dress Ever Made")

    response = staff_client.post(url("draft-reject", pk=draft.pk), {"reason": "Exaggerates."}, follow=True)

    assert any("Rejected the title draft" in m for m in messages_of(response))
    draft.refresh_from_db()
    assert draft.status == ContentDraft.Status.REJECTED
    assert draft.review_note == "Exaggerates."
    assert draft.reviewed_by == staff_user
    assert shown_title(staff_client, product) == "Plain Dress"
    assert not ContentVersion.objects.exists()
    detail = staff_client.get(url("draft-detail", pk=draft.pk)).content.decode()
    assert "Exaggerates." in detail


def test_reject_needs_a_reason(staff_client, make_product, copy_on):
    draft = make_draft(make_product(), "Best Dress Ever Made")
    response = staff_client.post(url("draft-reject", pk=draft.pk), {"reason": ""})
    assert response.status_code == 200
    assert "Give a reason for rejecting this draft." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == ContentDraft.Status.DRAFT


def test_a_draft_that_failed_its_checks_never_reaches_the_product_page(staff_client, make_product, copy_on):
    product = make_product(title="Plain Dress")
    draft = make_draft(
        product,
        "Northwind Red Silk Dress",
        status=ContentDraft.Status.REJECTED,
        reasons=[{"check": "facts", "message": "States colour 'Red' which is not in the facts."}],
    )
    detail = staff_client.get(url("draft-detail", pk=draft.pk)).content.decode()
    assert "which is not in the facts" in detail
    assert 'data-oscar-llm="approve"' not in detail

    for name, data in [("draft-approve", {}), ("draft-edit-approve", {"text": "Northwind Red Silk Dress"})]:
        response = staff_client.post(url(name, pk=draft.pk), data, follow=True)
        assert any("Only drafts awaiting review can be approved" in m for m in messages_of(response)), name

    assert not ContentVersion.objects.exists()
    draft.refresh_from_db()
    assert draft.status == ContentDraft.Status.REJECTED
    assert shown_title(staff_client, product) == "Plain Dress"


def test_rollback_restores_the_previous_copy_then_the_original(staff_client, make_product, copy_on):
    product = make_product(title="Plain Dress")
    first = make_draft(product, "Northwind Navy Dress")
    staff_client.post(url("draft-approve", pk=first.pk))
    second = make_draft(product, "Northwind Navy Blue Cotton Dress")
    staff_client.post(url("draft-approve", pk=second.pk))
    assert shown_title(staff_client, product) == "Northwind Navy Blue Cotton Dress"

    history = staff_client.get(url("product-history", product_pk=product.pk))
    html = history.content.decode()
    assert "Original (human-written)" in html
    assert html.count('data-oscar-llm="rollback"') == 2  # every version but the current one

    previous = ContentVersion.objects.get(product=product, draft=first)
    response = staff_client.post(url("version-rollback", pk=previous.pk), follow=True)
    assert response.redirect_chain[-1][0] == url("product-history", product_pk=product.pk)
    assert shown_title(staff_client, product) == "Northwind Navy Dress"

    original = ContentVersion.objects.get(product=product, kind="title", source=ContentVersion.Source.ORIGINAL)
    staff_client.post(url("version-rollback", pk=original.pk))
    assert shown_title(staff_client, product) == "Plain Dress"
    assert ContentVersion.objects.filter(product=product, is_current=True).get() == original


def test_bulk_approve(staff_client, make_product, copy_on):
    dress, shirt = make_product(title="Plain Dress"), make_product(title="Plain Shirt")
    one = make_draft(dress, "Northwind Navy Dress")
    two = make_draft(shirt, "Northwind Navy Shirt")
    left = make_draft(dress, "A navy dress.", kind="description")
    failed = make_draft(shirt, "Red Shirt", kind="description", status="rejected", reasons=[{"check": "facts"}])

    listing = staff_client.get(url("draft-list")).content.decode()
    assert f'name="drafts" value="{one.pk}"' in listing
    assert "Red Shirt" not in listing  # the queue opens on drafts awaiting review

    response = staff_client.post(
        url("draft-bulk-approve"), {"drafts": [one.pk, two.pk, failed.pk], "next": url("draft-list")}, follow=True
    )
    msgs = messages_of(response)
    assert any("Approved and published 2 drafts." in m for m in msgs)
    assert any("1 selected draft was not awaiting review" in m for m in msgs)
    assert shown_title(staff_client, dress) == "Northwind Navy Dress"
    assert shown_title(staff_client, shirt) == "Northwind Navy Shirt"
    left.refresh_from_db()
    failed.refresh_from_db()
    assert left.status == ContentDraft.Status.DRAFT
    assert failed.status == ContentDraft.Status.REJECTED

    response = staff_client.post(url("draft-bulk-approve"), {}, follow=True)
    assert any("Select at least one draft" in m for m in messages_of(response))


# --- pages ---------------------------------------------------------------------------------------


def test_queue_filters(staff_client, make_product):
    dress = make_product(title="Plain Dress")
    shirt = make_product(title="Plain Shirt")
    make_draft(dress, "Dress title draft")
    make_draft(shirt, "Shirt description draft", kind="description", segment="value")
    make_draft(shirt, "Shirt failed draft", status="rejected", reasons=[{"check": "length", "message": "Too long"}])

    def listing(**params) -> str:
        return staff_client.get(url("draft-list"), params).content.decode()

    default = listing()
    assert "Dress title draft" in default and "Shirt description draft" in default
    assert "Shirt failed draft" not in default
    assert "Shirt failed draft" in listing(status="", failed="on")
    assert "Dress title draft" not in listing(status="", failed="on")
    only_descriptions = listing(status="draft", kind="description")
    assert "Shirt description draft" in only_descriptions and "Dress title draft" not in only_descriptions
    assert "Dress title draft" not in listing(status="draft", segment="value")
    assert "Dress title draft" in listing(status="draft", q="plain dress")
    by_upc = listing(status="", q=shirt.upc)
    assert "Shirt description draft" in by_upc and "Dress title draft" not in by_upc
    assert "Product copy is switched off" in default


def test_queue_paginates(staff_client, make_product):
    product = make_product()
    for n in range(30):
        make_draft(product, f"Draft number {n:02d}")
    first = staff_client.get(url("draft-list")).content.decode()
    second = staff_client.get(url("draft-list"), {"page": 2}).content.decode()
    assert "Page 1 of 2" in first
    assert "Draft number 29" in first and "Draft number 00" not in first
    assert "Draft number 00" in second  # page 2 keeps the default "awaiting review" filter


def test_draft_detail_shows_facts_current_text_and_diff(staff_client, make_product, copy_on):
    product = make_product(title="Plain <Navy> Dress", price="45.00")
    draft = make_draft(product, "Northwind Navy Blue Cotton Dress")
    html = staff_client.get(url("draft-detail", pk=draft.pk)).content.decode()
    facts = html.split('data-oscar-llm="facts"')[1].split("</table>")[0]
    for expected in ("Women &gt; Clothing &gt; Dresses", "45.00 GBP", "Navy Blue", "Cotton", "Northwind"):
        assert expected in facts
    assert "Plain &lt;Navy&gt; Dress" in html  # the product's own (current) text, escaped
    diff = html.split('data-oscar-llm="diff">')[1].split("</div>")[0]
    assert "<del>Plain &lt;Navy&gt;</del>" in diff
    assert "<ins>Northwind Navy Blue Cotton</ins>" in diff
    assert 'name="text"' in html and 'name="reason"' in html


def test_word_diff_escapes_and_marks_words():
    diff = word_diff("A navy <b>dress</b>", "A blue <b>dress</b> & more")
    assert diff == "A <del>navy</del><ins>blue</ins> &lt;b&gt;dress&lt;/b&gt; <ins>&amp; more</ins>"
    assert word_diff("", "<script>alert(1)</script>") == "<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>"


def test_regenerate_queues_fresh_jobs(staff_client, make_product):
    product = make_product()
    draft = make_draft(product, "Northwind Navy Dress")
    response = staff_client.post(
        url("product-regenerate", product_pk=product.pk),
        {"kind": "title", "segment": "default", "language": "en", "next": url("draft-detail", pk=draft.pk)},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url("draft-detail", pk=draft.pk)
    assert any("Queued 1 new draft" in m for m in messages_of(response))
    job = Job.objects.get()
    assert (job.kind, job.target_id, job.params["segment"]) == ("content.title", product.pk, "default")

    staff_client.post(url("product-regenerate", product_pk=product.pk))
    assert Job.objects.filter(kind__startswith="content.").count() > 1

    response = staff_client.post(url("product-regenerate", product_pk=product.pk), {"next": "https://evil.example/"})
    assert response.url == url("product-history", product_pk=product.pk)


def test_generate_all_queues_one_bulk_job(staff_client, make_product):
    make_product()
    response = staff_client.post(url("generate-all"), follow=True)
    assert Job.objects.filter(kind="content.bulk").count() == 1
    assert any("Queued copy for all public products" in m for m in messages_of(response))


def test_job_list_shows_failed_jobs_errors(staff_client, make_product):
    product = make_product()
    error = "Model unavailable: Model directory /srv/shop_model does not exist"
    Job.objects.create(
        kind="content.title",
        target_model="catalogue.product",
        target_id=product.pk,
        input_hash="a",
        prompt_version="v1",
        model_id="shop",
        status=Job.Status.FAILED,
        attempts=5,
        error=error,
    )
    Job.objects.create(
        kind="content.plan", target_model="catalogue.product", target_id=product.pk, input_hash="b",
        prompt_version="-", model_id="-", status=Job.Status.DONE,
    )  # fmt: skip

    jobs_page = staff_client.get(url("job-list")).content.decode()
    assert error in jobs_page
    assert url("product-history", product_pk=product.pk) in jobs_page
    failed_only = staff_client.get(url("job-list"), {"status": "failed"}).content.decode()
    assert "content.plan" not in failed_only.split('data-oscar-llm="job-table"')[1]

    # The queue's banner tells staff the model is missing.
    queue = staff_client.get(url("draft-list")).content.decode()
    assert error in queue.split('data-oscar-llm="status-banner"')[1].split('data-oscar-llm="status-tabs"')[0]


def banner_of(client) -> str:
    page = client.get(url("draft-list")).content.decode()
    return page.split('data-oscar-llm="status-banner"')[1].split('data-oscar-llm="status-tabs"')[0]


def test_the_product_copy_banner_counts_only_product_copy_jobs(staff_client, make_product):
    from django.utils import timezone

    product = make_product()
    triage_error = "Model unavailable: no support model at /srv/support_model"
    Job.objects.create(
        kind="support.draft", target_model="oscar_llm.message", target_id=1, input_hash="s",
        prompt_version="v1", model_id="support", status=Job.Status.FAILED, attempts=5, error=triage_error,
    )  # fmt: skip
    banner = banner_of(staff_client)
    assert triage_error not in banner
    assert 'data-oscar-llm="job-errors"' not in banner

    copy_error = "Model unavailable: Model directory /srv/shop_model does not exist"
    Job.objects.create(
        kind="content.title", target_model="catalogue.product", target_id=product.pk, input_hash="c",
        prompt_version="v1", model_id="shop", status=Job.Status.FAILED, attempts=5, error=copy_error,
    )  # fmt: skip
    # A support job that finished well later does not clear the product copy error either.
    Job.objects.create(
        kind="support.embed_article", target_model="oscar_llm.knowledgearticle", target_id=1, input_hash="e",
        prompt_version="-", model_id="-", status=Job.Status.DONE, finished_at=timezone.now(),
    )  # fmt: skip
    banner = banner_of(staff_client)
    assert copy_error in banner
    assert triage_error not in banner


def test_sweep_button(staff_client):
    response = staff_client.post(url("job-sweep"), follow=True)
    assert response.redirect_chain[-1][0] == url("job-list")
    assert any("Sweep done" in m for m in messages_of(response))


def test_staff_read_stored_copy_as_words_not_as_markup(staff_client, make_product, copy_on):
    product = make_product()
    draft = make_draft(product, "<p>A navy dress from Pebble &amp; Pine.</p>", kind="description", segment="value")
    shown = "A navy dress from Pebble &amp; Pine."  # "&" escaped once: the reader sees "&"
    for page in (url("draft-list"), url("product-history", product_pk=product.pk)):
        html = staff_client.get(page).content.decode()
        assert shown in html and "&amp;amp;" not in html and "&lt;p&gt;" not in html, page
    detail = staff_client.get(url("draft-detail", pk=draft.pk)).content.decode()
    assert f'data-oscar-llm="draft-text">{shown}</div>' in detail
