"""What the shop knows about a customer, gathered for redaction (docs/architecture.md, "Personal data").

:func:`customer_identity` reads a user's own fields, their address book and the shipping and billing
addresses of their orders (names on them, lines, town, postcode, phone), so text about that customer
can be redacted of every value the shop holds before it goes to a model outside the process.
:func:`customer_identities` does the same for many users in four queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oscar.core.loading import get_model

from .guardrails.redaction import CustomerIdentity

_ADDRESS_FIELDS = ("first_name", "last_name", "line1", "line2", "line3", "line4", "state", "postcode")


def customer_identities(users: Iterable[Any]) -> dict[int, CustomerIdentity]:
    """user id -> every personal value the shop holds for that user (anonymous users are left out)."""
    users = {u.pk: u for u in users if u is not None and getattr(u, "pk", None)}
    if not users:
        return {}
    found: dict[int, dict[str, list[str]]] = {
        pk: {
            "names": [u.get_full_name(), u.first_name, u.last_name],
            "emails": [u.email],
            "usernames": [u.get_username()],
            "address_lines": [],
            "cities": [],
            "postcodes": [],
            "phones": [],
        }
        for pk, u in users.items()
    }
    Order = get_model("order", "Order")
    for user_id, email in (
        Order.objects.filter(user_id__in=users).exclude(guest_email="").values_list("user_id", "guest_email")
    ):
        found[user_id]["emails"].append(email)
    sources = (
        (get_model("address", "UserAddress"), "user_id", ("phone_number",)),
        (get_model("order", "ShippingAddress"), "order__user_id", ("phone_number",)),
        (get_model("order", "BillingAddress"), "order__user_id", ()),
    )
    for model, owner, extra in sources:
        for row in model.objects.filter(**{f"{owner}__in": list(users)}).values(owner, *_ADDRESS_FIELDS, *extra):
            values = found[row[owner]]
            values["names"].append(f"{row['first_name']} {row['last_name']}".strip())
            values["address_lines"] += [row["line1"], row["line2"], row["line3"]]
            values["cities"] += [row["line4"], row["state"]]
            values["postcodes"].append(row["postcode"])
            if row.get("phone_number"):
                values["phones"].append(str(row["phone_number"]))
    return {pk: CustomerIdentity(**{k: tuple(v) for k, v in values.items()}) for pk, values in found.items()}


def customer_identity(user: Any) -> CustomerIdentity:
    """Every personal value the shop holds for ``user`` (``None`` or anonymous: nothing)."""
    if user is None or not getattr(user, "pk", None):
        return CustomerIdentity()
    return customer_identities([user])[user.pk]
