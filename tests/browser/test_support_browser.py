"""In a real browser: a customer opens a ticket about an order, the worker path drafts a reply,
a staff member approves it in Oscar's dashboard, and the customer reads it on their account page.

Celery runs eagerly in the live server (same code path, no broker), so the draft is written
by the production handler with the tiny support model while the customer's request commits.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from oscar_llm.models import Message, ReplyDraft, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_opens_a_ticket_and_staff_approve_the_draft(
    page, login_as, customer, staff_user, make_order, support_on, support_models, knowledge_base
):
    from oscar_llm.support import drafting_jobs

    order = make_order(customer, city="Leeds")
    drafting_jobs.get_drafter()  # load the models before the clock of the page's timeouts starts

    # The customer: Account -> Support -> Ask a question, about one of their orders.
    login_as(customer)
    page.goto(reverse("customer:profile-view"))
    page.click("#nav-support")
    page.click("#new-ticket")
    page.fill("#id_subject", "Cancel my order")
    page.select_option("#id_order", value=str(order.pk))
    page.fill("#id_body", f"Hello, I want to cancel order {order.number}. How can I do that?")
    page.click("#send-ticket")
    page.wait_for_url("**/accounts/support/*/", timeout=180_000)
    assert f"cancel order {order.number}" in page.locator("#thread").inner_text()
    ticket = Ticket.objects.get()
    draft = ticket.drafts.get(status=ReplyDraft.Status.DRAFT)  # written while the request committed
    assert page.locator(".support-staff-message").count() == 0

    # Staff: the queue in Oscar's dashboard, the ticket, the draft with its sources.
    page.context.clear_cookies()
    login_as(staff_user)
    page.goto(reverse("oscar_llm_dashboard:support-queue"))
    page.locator("#support-queue a", has_text="Cancel my order").click()
    page.wait_for_selector("#support-draft")
    assert order.number in page.locator("#customer-orders").inner_text()
    if draft.needs_human:
        # No reply suggested: staff write it, starting from the facts shown.
        assert page.locator("#draft-reasons li").count() >= 1
        reply = f"Your order {order.number} can be cancelled from your account until it ships."
        page.fill("#edit-approve-form textarea", reply)
        page.click("#edit-approve")
    else:
        reply = draft.text
        assert page.locator("#draft-text").inner_text().strip()
        page.click("#approve-draft")
    page.wait_for_selector("#no-draft")
    assert Message.objects.filter(ticket=ticket, kind=Message.Kind.STAFF).count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [customer.email]

    # The customer sees the reply on their account page.
    page.context.clear_cookies()
    login_as(customer)
    page.goto(reverse("oscar_llm-support-detail", args=[ticket.pk]))
    staff_reply = page.locator(".support-staff-message .support-message-body").inner_text()
    assert " ".join(staff_reply.split()) == " ".join(reply.split())
