"""The support desk's Django side: tickets, privacy between customers, approval and its email.

These tests need no language model: drafts here are rows a worker would have
written (the pipeline has its own tests in test_support_drafting.py).
"""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.urls import reverse

from oscar_llm.models import SUPPORT_MAX_MESSAGE_CHARS, Job, Message, ReplyDraft, Ticket
from oscar_llm.support import desk, drafting_jobs, kinds, learning, queries

pytestmark = pytest.mark.django_db

API = "/api/llm/support/tickets/"


def _draft(ticket: Ticket, text: str = "Your order ships within 2 working days.", **kwargs) -> ReplyDraft:
    """A draft as the drafting job stores it (the pipeline itself is tested elsewhere)."""
    message = ticket.messages.filter(kind=Message.Kind.CUSTOMER).last()
    return ReplyDraft.objects.create(ticket=ticket, message=message, text=text, confidence=0.8, **kwargs)


# --- opening and reading tickets -------------------------------------------------------------------


def test_customer_opens_a_ticket_about_their_order_from_the_account_area(client, customer, make_order):
    order = make_order(customer)
    client.force_login(customer)
    page = client.get(reverse("customer:summary"), follow=True)
    assert reverse("oscar_llm-support-list").encode() in page.content  # the "Support" tab
    response = client.post(
        reverse("oscar_llm-support-create"),
        {"subject": "Where is my parcel?", "body": "It has not arrived yet.", "order": order.pk},
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("oscar_llm-support-detail", args=[ticket.pk])
    assert ticket.customer == customer and list(ticket.orders.all()) == [order]
    assert ticket.status == Ticket.Status.WAITING
    assert ticket.messages.get().body == "It has not arrived yet."
    page = client.get(reverse("oscar_llm-support-detail", args=[ticket.pk]))
    assert b"It has not arrived yet." in page.content and order.number.encode() in page.content
    assert b"Where is my parcel?" in client.get(reverse("oscar_llm-support-list")).content


def test_a_customer_cannot_link_someone_elses_order(client, customer, other_customer, make_order):
    foreign = make_order(other_customer)
    client.force_login(customer)
    response = client.post(
        reverse("oscar_llm-support-create"), {"subject": "Refund", "body": "Please refund.", "order": foreign.pk}
    )
    assert response.status_code == 200 and b"Select a valid choice" in response.content
    assert not Ticket.objects.exists()
    assert foreign.number.encode() not in response.content
    api = client.post(API, {"subject": "Refund", "body": "Please refund.", "order_number": foreign.number})
    assert api.status_code == 400 and not Ticket.objects.exists()
    with pytest.raises(desk.SupportError):
        desk.open_ticket(customer, "Refund", "Please refund.", order=foreign)


def test_one_customer_cannot_read_anothers_ticket_by_url_or_api(client, customer, other_customer):
    ticket = desk.open_ticket(other_customer, "My address", "I live at 1 Secret Lane.")
    client.force_login(customer)
    assert client.get(reverse("oscar_llm-support-detail", args=[ticket.pk])).status_code == 404
    posted = client.post(reverse("oscar_llm-support-detail", args=[ticket.pk]), {"body": "hijack"})
    assert posted.status_code == 404
    assert client.get(f"{API}{ticket.pk}/").status_code == 404
    assert client.post(f"{API}{ticket.pk}/messages/", {"body": "hijack"}).status_code == 404
    listed = client.get(API).json()
    assert listed["count"] == 0
    assert b"Secret Lane" not in client.get(reverse("oscar_llm-support-list")).content
    assert ticket.messages.count() == 1  # nothing was added to the other customer's thread
    client.logout()
    assert client.get(reverse("oscar_llm-support-detail", args=[ticket.pk])).status_code == 302  # to login
    assert client.get(f"{API}{ticket.pk}/").status_code == 403


def test_drafts_and_internal_notes_are_never_shown_to_the_customer(client, customer, staff_user):
    ticket = desk.open_ticket(customer, "Sizes", "Do the dresses run small?")
    _draft(ticket, text="DRAFT-TEXT-NOT-APPROVED")
    desk.add_staff_note(ticket, by=staff_user, body="NOTE-STAFF-ONLY customer is a VIP")
    client.force_login(customer)
    page = client.get(reverse("oscar_llm-support-detail", args=[ticket.pk])).content.decode()
    api = json.dumps(client.get(f"{API}{ticket.pk}/").json())
    for secret in ("DRAFT-TEXT-NOT-APPROVED", "NOTE-STAFF-ONLY"):
        assert secret not in page and secret not in api
    assert "Do the dresses run small?" in page and "Do the dresses run small?" in api
    # The staff draft endpoints are closed to customers.
    assert client.get("/api/llm/support/drafts/").status_code == 403
    draft = ticket.drafts.get()
    assert client.post(f"/api/llm/support/drafts/{draft.pk}/approve/").status_code == 403
    assert not mail.outbox and ticket.messages.filter(kind=Message.Kind.STAFF).count() == 0


def test_customer_text_is_escaped_on_every_page(client, customer, staff_user):
    body = '<script>alert("x")</script><b onmouseover="steal()">hi</b>'
    ticket = desk.open_ticket(customer, "<img src=x onerror=alert(1)>", body)
    client.force_login(customer)
    page = client.get(reverse("oscar_llm-support-detail", args=[ticket.pk])).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<img src=x" not in page
    client.force_login(staff_user)
    staff_page = client.get(reverse("oscar_llm_dashboard:support-ticket", args=[ticket.pk])).content.decode()
    assert "<script>alert" not in staff_page and "&lt;script&gt;alert" in staff_page
    queue = client.get(reverse("oscar_llm_dashboard:support-queue")).content.decode()
    assert "<img src=x" not in queue and "&lt;img src=x" in queue


def test_a_message_over_the_cap_gets_a_clear_error_and_is_kept_in_the_form(client, customer):
    client.force_login(customer)
    body = "a" * (SUPPORT_MAX_MESSAGE_CHARS + 1)
    response = client.post(reverse("oscar_llm-support-create"), {"subject": "Long", "body": body})
    assert response.status_code == 200
    assert b"the limit is 20,000" in response.content
    assert body.encode() in response.content  # nothing the customer wrote is lost
    assert not Ticket.objects.exists()
    api = client.post(API, {"subject": "Long", "body": body}, content_type="application/json")
    assert api.status_code == 400 and "limit" in api.json()["detail"] and not Ticket.objects.exists()


def test_api_keeps_a_message_whose_bytes_are_not_utf8(client, customer):
    client.force_login(customer)
    raw = b'{"subject": "Caf\xe9 order", "body": "Bad byte \xff\xfe here, order please"}'
    response = client.generic("POST", API, raw, content_type="application/json")
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get()
    assert ticket.subject == "Caf\ufffd order"
    assert ticket.messages.get().body == "Bad byte \ufffd\ufffd here, order please"
    thread = client.get(f"{API}{ticket.pk}/").json()
    assert [m["kind"] for m in thread["messages"]] == ["customer"]


def test_customer_replies_by_page_and_api(client, customer):
    ticket = desk.open_ticket(customer, "Exchange", "Can I exchange a size?")
    client.force_login(customer)
    client.post(reverse("oscar_llm-support-detail", args=[ticket.pk]), {"body": "Size M to L, please."})
    response = client.post(f"{API}{ticket.pk}/messages/", {"body": "Thanks!"}, content_type="application/json")
    assert response.status_code == 201
    bodies = list(ticket.messages.values_list("body", flat=True))
    assert bodies == ["Can I exchange a size?", "Size M to L, please.", "Thanks!"]


def test_customer_api_is_throttled(client, customer, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}), "oscar_llm_support": "3/min"}}  # fmt: skip
    client.force_login(customer)
    codes = [client.get(API).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


# --- approval --------------------------------------------------------------------------------------


def test_approving_sends_exactly_one_message_and_one_email_even_when_clicked_twice(
    client, customer, staff_user, django_capture_on_commit_callbacks
):
    ticket = desk.open_ticket(customer, "Delivery", "When will it arrive?")
    draft = _draft(ticket)
    client.force_login(staff_user)
    url = reverse("oscar_llm_dashboard:support-draft-approve", args=[draft.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"text": ""})
        second = client.post(url, {"text": ""})
    assert first.status_code == second.status_code == 302
    assert ticket.messages.filter(kind=Message.Kind.STAFF).count() == 1
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [customer.email] and "Your order ships within 2 working days." in email.body
    assert f"ticket #{ticket.pk}" in email.subject
    draft.refresh_from_db()
    ticket.refresh_from_db()
    assert draft.status == ReplyDraft.Status.APPROVED and draft.edit_distance == 0 and draft.decided_by == staff_user
    assert ticket.status == Ticket.Status.ANSWERED and ticket.first_response_at is not None
    # The customer now sees the reply on their account page.
    client.force_login(customer)
    assert (
        b"Your order ships within 2 working days."
        in client.get(reverse("oscar_llm-support-detail", args=[ticket.pk])).content
    )


def test_edit_and_approve_through_the_api_sends_the_edited_text_once(
    client, customer, staff_user, django_capture_on_commit_callbacks
):
    ticket = desk.open_ticket(customer, "Returns", "Can I return shoes?")
    draft = _draft(ticket, text="Yes, within 30 days.")
    client.force_login(staff_user)
    url = f"/api/llm/support/drafts/{draft.pk}/approve/"
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"text": "Yes, unworn shoes within 30 days of delivery."}, "application/json")
        again = client.post(url, {"text": "Something else entirely."}, "application/json")
    assert first.status_code == 200 and first.json()["status"] == "edited"
    assert again.status_code == 200  # idempotent: the first decision stands
    assert len(mail.outbox) == 1 and "unworn shoes within 30 days" in mail.outbox[0].body
    assert list(ticket.messages.filter(kind=Message.Kind.STAFF).values_list("body", flat=True)) == [
        "Yes, unworn shoes within 30 days of delivery."
    ]
    draft.refresh_from_db()
    assert draft.edit_distance == 5  # words added: unworn, shoes, of, delivery + "days." -> "days"


def test_reject_needs_a_reason_and_sends_nothing(client, customer, staff_user):
    ticket = desk.open_ticket(customer, "Payment", "Was I charged twice?")
    draft = _draft(ticket)
    client.force_login(staff_user)
    url = reverse("oscar_llm_dashboard:support-draft-reject", args=[draft.pk])
    client.post(url, {"reason": ""})
    draft.refresh_from_db()
    assert draft.status == ReplyDraft.Status.DRAFT
    client.post(url, {"reason": "Wrong amount"})
    draft.refresh_from_db()
    ticket.refresh_from_db()
    assert draft.status == ReplyDraft.Status.REJECTED and draft.reject_reason == "Wrong amount"
    assert ticket.status == Ticket.Status.NEEDS_HUMAN
    assert not mail.outbox and not ticket.messages.filter(kind=Message.Kind.STAFF).exists()
    # A rejected draft cannot be approved afterwards.
    with pytest.raises(desk.SupportError):
        desk.approve(draft, by=staff_user)


def test_a_new_customer_message_supersedes_the_open_draft(customer, support_on, settings):
    settings.OSCAR_LLM = {**getattr(settings, "OSCAR_LLM", {}), "MODEL_DIR": "/nonexistent/model"}
    ticket = desk.open_ticket(customer, "Sizes", "Is M a 12?")
    draft = _draft(ticket)
    desk.add_customer_message(ticket, "Actually, is L a 14?")
    draft.refresh_from_db()
    assert draft.status == ReplyDraft.Status.SUPERSEDED
    with pytest.raises(desk.SupportError):
        desk.approve(draft, by=None)


def test_missing_model_fails_the_job_with_a_clear_error_and_the_ticket_needs_a_human(
    client, customer, staff_user, support_on, settings, django_capture_on_commit_callbacks
):
    settings.OSCAR_LLM = {**getattr(settings, "OSCAR_LLM", {}), "MODEL_DIR": "/nonexistent/model"}
    drafting_jobs.clear_drafters()
    with django_capture_on_commit_callbacks(execute=True):  # the nudge runs the job (eager Celery)
        ticket = desk.open_ticket(customer, "Where is my order", "Order not here")
    job = Job.objects.get(kind=kinds.DRAFT_JOB)
    assert "triage" in job.error and "oscar_llm_train --support" in job.error
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEEDS_HUMAN
    assert not ticket.drafts.exists() and not mail.outbox
    client.force_login(staff_user)
    page = client.get(reverse("oscar_llm_dashboard:support-ticket", args=[ticket.pk])).content.decode()
    assert "Drafting failed" in page and "oscar_llm_train --support" in page


def test_staff_queue_filters_and_figures(client, customer, staff_user, django_capture_on_commit_callbacks):
    a = desk.open_ticket(customer, "Refund please", "Refund my order")
    b = desk.open_ticket(customer, "Invoice", "I need an invoice")
    Ticket.objects.filter(pk=a.pk).update(intent="get_refund", intent_confidence=0.95)
    Ticket.objects.filter(pk=b.pk).update(intent="get_invoice", intent_confidence=0.40)
    draft_a = _draft(a, text="We refund within 14 days.")
    draft_b = _draft(b, text="Your invoice is in your account.")
    with django_capture_on_commit_callbacks(execute=True):
        desk.approve(draft_a, by=staff_user)
        desk.approve(draft_b, by=staff_user, text="Your invoice is in your account, under Order History.")
    client.force_login(staff_user)
    queue = client.get(reverse("oscar_llm_dashboard:support-queue"), {"status": "answered", "intent": "get_refund"})
    assert b"Refund please" in queue.content and b"I need an invoice" not in queue.content
    assert list(queries.queue(max_confidence=0.5)) == [Ticket.objects.get(pk=b.pk)]
    figures = queries.figures()
    assert figures["decided"] == 2 and figures["approved_unedited"] == 1 and figures["edited"] == 1
    assert figures["mean_edit_distance"] == pytest.approx((0 + 4) / 2)  # "account." -> "account," + 3 words
    assert figures["median_first_response_seconds"] is not None
    page = client.get(reverse("oscar_llm_dashboard:support-figures")).content.decode()
    assert 'data-figure="approved_unedited">1' in page


def test_learning_loop_rows_come_from_approved_and_edited_replies(customer, staff_user):
    t1 = desk.open_ticket(customer, "Refund", "I want my money back")
    t2 = desk.open_ticket(customer, "Cancel", "Cancel my order please")
    Ticket.objects.filter(pk=t1.pk).update(intent="get_refund")
    Ticket.objects.filter(pk=t2.pk).update(intent="cancel_order")
    desk.approve(_draft(t1, text="Refunds take 5 days."), by=staff_user, text="Refunds take 5 working days.")
    desk.reject(_draft(t2, text="Wrong."), by=staff_user, reason="wrong")
    assert list(learning.training_rows()) == [("I want my money back", "get_refund", "Refunds take 5 working days.")]
    examples = learning.resolved_examples(exclude_ticket=t2.pk)
    assert [(e.text, e.reply, e.intent) for e in examples] == [
        ("I want my money back", "Refunds take 5 working days.", "get_refund")
    ]
    assert learning.resolved_examples(exclude_ticket=t1.pk) == []


def test_a_batch_reads_each_tickets_examples_once_with_its_own_replies_left_out(customer, staff_user):
    """The drafting batch reads the examples once; with a limit, each ticket still gets the newest
    replies of *other* tickets, as many as the limit allows."""
    tickets = [desk.open_ticket(customer, f"Question {n}", f"Question number {n}") for n in range(4)]
    for n, ticket in enumerate(tickets[:3]):
        desk.approve(_draft(ticket, text=f"Answer number {n}."), by=staff_user)
    batch = learning.resolved_examples_for([t.pk for t in tickets], limit=2)
    replies = {t.pk: [e.reply for e in batch[t.pk]] for t in tickets}
    assert replies == {
        tickets[0].pk: ["Answer number 2.", "Answer number 1."],
        tickets[1].pk: ["Answer number 2.", "Answer number 0."],
        tickets[2].pk: ["Answer number 1.", "Answer number 0."],
        tickets[3].pk: ["Answer number 2.", "Answer number 1."],
    }
    for ticket in tickets:
        assert list(batch[ticket.pk]) == learning.resolved_examples(exclude_ticket=ticket.pk, limit=2)


def test_order_facts_hold_only_the_customers_own_orders(customer, other_customer, make_order):
    mine = make_order(customer, city="Leeds")
    theirs = make_order(other_customer, city="York")
    ticket = desk.open_ticket(customer, "Order", "Where is it?", order=mine)
    request = drafting_jobs.draft_request(ticket.messages.get())
    assert [o.number for o in request.orders] == [mine.number]
    assert request.linked_order_numbers == (mine.number,)
    fact = request.orders[0]
    assert fact.shipping_city == "Leeds" and fact.total == str(mine.total_incl_tax) and fact.currency == mine.currency
    assert fact.placed == mine.date_placed.date().isoformat()
    assert [line.title for line in fact.lines] == [line.title for line in mine.lines.all()]
    assert theirs.number not in json.dumps([o.number for o in request.orders])


def test_openapi_schema_lists_the_support_endpoints(client):
    schema = client.get("/api/llm/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/llm/support/tickets/", "/api/llm/support/tickets/{id}/messages/",
                 "/api/llm/support/drafts/{id}/approve/", "/api/llm/support/drafts/{id}/reject/"):  # fmt: skip
        assert path in schema


def test_learning_loop_rows_in_bitext_shape_template_the_customers_order_number(customer, staff_user, make_order):
    order = make_order(customer)
    ticket = desk.open_ticket(customer, "Cancel", f"Please cancel order {order.number}", order=order)
    Ticket.objects.filter(pk=ticket.pk).update(intent="cancel_order")
    desk.approve(_draft(ticket, text=f"Order {order.number} is cancelled."), by=staff_user)
    [row] = list(learning.training_rows_bitext())
    assert row == {
        "instruction": f"Please cancel order {order.number}",
        "intent": "cancel_order",
        "response": f"Order {order.number} is cancelled.",
        "entity_type": "order_id",
        "entity_value": order.number,
    }
    from oscar_llm.support.training import template_target

    assert template_target(row)[0] == "Order {{Order Number}} is cancelled."


@pytest.mark.django_db(transaction=True)
def test_support_pages_and_api_never_import_torch_or_transformers(customer, staff_user, support_on):
    """Open a ticket, read it, work the staff queue and approve, all in a fresh web process."""
    from tests.workers import run_in_web_process

    ticket = desk.open_ticket(customer, "Sizes", "Does M fit a 12?")
    draft = _draft(ticket, text="Yes, M fits a UK 12.")
    body = """
from django.contrib.auth import get_user_model
User = get_user_model()
customer, staff = Client(), Client()
customer.force_login(User.objects.get(username="alice"))
staff.force_login(User.objects.get(username="staff"))
result["codes"] = [
    customer.post("/accounts/support/new/", {"subject": "Returns", "body": "Can I return it?"}).status_code,
    customer.get("/accounts/support/").status_code,
    customer.get("/api/llm/support/tickets/").status_code,
    staff.get("/dashboard/llm/support/").status_code,
    staff.get("/dashboard/llm/support/%s/" % sys.argv[1]).status_code,
    staff.post("/dashboard/llm/support/draft/%s/approve/" % sys.argv[2]).status_code,
]
"""
    result = run_in_web_process(
        body, str(ticket.pk), str(draft.pk), env={"CELERY_BROKER_URL": "memory://"}, timeout=180
    )
    assert result["codes"] == [302, 200, 200, 200, 200, 302]
    assert result["heavy"] == []
    assert Ticket.objects.filter(subject="Returns", customer=customer).exists()  # queued, not drafted here
    draft.refresh_from_db()
    assert draft.status == ReplyDraft.Status.APPROVED


def test_citations_are_highlighted_and_the_rest_stays_escaped():
    from oscar_llm.dashboard.support_views import highlight_citations

    text = "Order 100023 ships in 2 days. <b>Returns</b> within 30 days."
    citations = [
        {"kind": "order", "number": "100023", "field": "number", "value": "100023", "start": 6, "end": 12},
        {"kind": "article", "id": 3, "title": "Returns", "quote": "within 30 days"},  # no span: found by quote
    ]
    html = str(highlight_citations(text, citations))
    first = '<mark class="support-citation" data-citation="1" title="Order 100023: number">100023<sup>1</sup></mark>'
    assert first in html
    assert 'data-citation="2" title="Article: Returns">within 30 days<sup>2</sup></mark>' in html
    assert "&lt;b&gt;Returns&lt;/b&gt;" in html and "<b>" not in html


def test_resolved_examples_carry_no_other_customers_data(customer, other_customer, make_order, staff_user):
    """Approved replies feed later prompts as examples, but as templates: the first customer's order
    number, name and e-mail never reach a prompt written for someone else."""
    other_customer.first_name, other_customer.last_name = "Margot", "Quill"
    other_customer.save()
    order = make_order(other_customer)
    ticket = desk.open_ticket(
        other_customer, "Late parcel", f"Hi, Margot Quill here ({other_customer.email}): where is order {order.number}?"
    )
    draft = _draft(ticket, text=f"Dear Margot Quill, order {order.number} left our warehouse today.")
    desk.approve(draft, by=staff_user)

    own = desk.open_ticket(customer, "Question", "Where is my parcel?")
    examples = learning.resolved_examples(exclude_ticket=own.pk)
    assert len(examples) == 1
    written = examples[0].text + examples[0].reply
    for leaked in (order.number, "Margot", "Quill", other_customer.email):
        assert leaked not in written
    assert "{{Order Number}}" in examples[0].reply and "{{Customer Name}}" in examples[0].reply


class RecordingDesk(desk.SupportDesk):
    """A shop's own desk: every write still goes through the plugin's, and the shop sees it."""

    opened: list[int] = []

    def open_ticket(self, customer, subject, body, order=None):
        ticket = super().open_ticket(customer, subject, body, order=order)
        RecordingDesk.opened.append(ticket.pk)
        return ticket


def test_a_shop_can_replace_the_support_desk(client, customer, settings):
    settings.OSCAR_LLM = {**getattr(settings, "OSCAR_LLM", {}), "SUPPORT": {"DESK": f"{__name__}.RecordingDesk"}}
    assert isinstance(desk.get_desk(), RecordingDesk)
    client.force_login(customer)
    response = client.post(
        reverse("oscar_llm-support-create"), {"subject": "Sizes", "body": "Does M fit a 12?", "order": ""}
    )
    ticket = Ticket.objects.get(customer=customer)
    assert response.status_code == 302 and RecordingDesk.opened == [ticket.pk]
