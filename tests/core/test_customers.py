"""The shop's every value of a customer, for redaction: account, address book, order addresses."""

from __future__ import annotations

import pytest

from oscar_llm.customers import customer_identities, customer_identity
from oscar_llm.guardrails.redaction import CustomerIdentity, redact

pytestmark = pytest.mark.django_db


def _address_book(user):
    from oscar.core.loading import get_model
    from oscar.test.factories import CountryFactory

    return get_model("address", "UserAddress").objects.create(
        user=user,
        first_name="Alice",
        last_name="Liddell",
        line1="Flat 2",
        line2="14 Rabbit Hole Lane",
        line4="Oxford",
        postcode="OX1 2JD",
        phone_number="+44 7700 900456",
        country=CountryFactory(),
    )


def test_identity_holds_account_address_book_and_order_addresses(customer, make_order):
    customer.first_name, customer.last_name = "Alice", "Liddell"
    customer.save()
    _address_book(customer)
    order = make_order(customer, city="Leeds")
    identity = customer_identity(customer)
    assert "Alice Liddell" in identity.names
    assert identity.emails[0] == "alice@example.com" and "alice" in identity.usernames
    assert {"Flat 2", "14 Rabbit Hole Lane", order.shipping_address.line1} <= set(identity.address_lines)
    assert {"Oxford", "Leeds"} <= set(identity.cities)
    assert "OX1 2JD" in identity.postcodes and "+44 7700 900456" in identity.phones
    text = "alice liddell, 14 rabbit hole ln, oxford ox12jd, 07700 900456, order " + order.number
    redacted, _mapping = redact(text, known=identity, keep=[order.number])
    for value in ("alice", "liddell", "rabbit", "oxford", "ox12jd", "900456"):
        assert value not in redacted.lower(), redacted
    assert redacted.endswith("order " + order.number)


def test_identities_in_bulk_and_anonymous(customer, other_customer):
    found = customer_identities([customer, other_customer, None])
    assert set(found) == {customer.pk, other_customer.pk}
    assert found[other_customer.pk].emails == ("bob@example.com",)
    assert customer_identity(None) == CustomerIdentity()


def test_a_draft_request_carries_the_customer(customer):
    from oscar_llm.support import desk, drafting_jobs

    _address_book(customer)
    ticket = desk.open_ticket(customer, "Parcel", "Where is it?")
    request = drafting_jobs.draft_request(ticket.messages.get(), similar=())
    assert request.customer is not None
    assert "14 Rabbit Hole Lane" in request.customer.address_lines and "OX1 2JD" in request.customer.postcodes
