"""What a draft may state: the customer's orders, the retrieved articles and the shop's contact facts.

Placeholders in a generated reply (``{{Order Number}}``, ``{{Customer Support
Phone Number}}``, ``{{Order History}}``...) are filled from these facts and
from nowhere else; a placeholder with no fact behind it stays unfilled, and
the checks send the draft to a human.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .types import ArticleFact, OrderFact

PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]{1,60}?)\s*\}\}")
CONTACT_LINE_RE = re.compile(r"^\s*([A-Z][A-Za-z ]{1,30}):\s*(.+?)\s*$", re.M)
CONTACT_TAG = "contact"

# Placeholder (lower case, "anonymized" dropped) -> order field.
ORDER_FIELDS = {
    **dict.fromkeys(
        ["order number", "order id", "purchase id", "purchase number", "order no", "order", "order reference"],
        "number",
    ),
    **dict.fromkeys(["tracking number", "tracking id", "tracking code"], "tracking"),
    **dict.fromkeys(["order total", "refund amount", "total amount", "amount", "purchase amount"], "total"),
    **dict.fromkeys(["delivery city", "city", "shipping city"], "shipping_city"),
    **dict.fromkeys(["delivery country", "country", "shipping country"], "shipping_country"),
    **dict.fromkeys(["order date", "purchase date", "date of purchase"], "placed"),
    **dict.fromkeys(["shipping method", "delivery method"], "shipping_method"),
    **dict.fromkeys(["order status", "status"], "status"),
}
NAME_PLACEHOLDERS = {"customer name", "name", "client name", "client's name", "first name", "full name", "person name"}
# Placeholder -> the "Label" of a "Label: value" line of the contact article.
CONTACT_FIELDS = {
    **dict.fromkeys(
        [
            "customer support phone number",
            "support phone number",
            "customer service phone number",
            "phone number",
            "contact number",
            "customer support number",
        ],
        "Phone",
    ),
    **dict.fromkeys(
        ["customer support email", "customer support email address", "support email", "email address", "email"],
        "Email",
    ),
    **dict.fromkeys(
        [
            "customer support availability",
            "customer support hours",
            "customer service hours",
            "support hours",
            "business hours",
            "operating hours",
            "working hours",
        ],
        "Hours",
    ),
    **dict.fromkeys(["website url", "website", "company website", "online store", "url"], "Website"),
    **dict.fromkeys(["company name", "shop name", "store name"], "Shop"),
}
# Placeholders that name a place in the shop's own pages; values are the labels
# the account area and the articles use, so the reply sends customers
# somewhere that exists. Buttons the shop does not have ("Cancel Order",
# "Edit Order", "Download"...) are deliberately absent.
UI_LABELS = {
    **dict.fromkeys(
        [
            "order history",
            "my orders",
            "order details",
            "orders",
            "purchase history",
            "order overview",
            "track order",
            "order tracking",
            "track my order",
            "invoices",
            "invoice history",
            "invoice",
            "billing",
            "billing history",
            "refunds",
            "refund status",
            "purchases",
            "my purchases",
        ],
        "Order History",
    ),
    **dict.fromkeys(
        [
            "account settings",
            "profile",
            "account",
            "my account",
            "account details",
            "account information",
            "personal information",
            "profile settings",
            "settings",
            "newsletter subscription",
            "subscription preferences",
            "email preferences",
            "account profile",
            "edit profile",
        ],
        "Profile",
    ),
    **dict.fromkeys(
        ["shipping address", "delivery address", "address book", "addresses", "shipping details", "address"],
        "Address Book",
    ),
    **dict.fromkeys(
        [
            "contact us",
            "support",
            "help",
            "contact page",
            "customer support",
            "help center",
            "help centre",
            "support ticket",
            "customer service",
            "support page",
            "contact",
        ],
        "Support",
    ),
    **dict.fromkeys(["live chat", "chat", "live chat support", "online chat"], "Live Chat"),
    **dict.fromkeys(["checkout", "checkout page", "proceed to checkout", "place order", "buy now"], "checkout"),
    **dict.fromkeys(
        [
            "sign up",
            "register",
            "registration",
            "create account",
            "sign-up",
            "create an account",
            "register now",
            "open an account",
        ],
        "Register",
    ),
    **dict.fromkeys(["change password", "password settings"], "Change Password"),
    **dict.fromkeys(
        ["forgot password", "forgotten password", "reset password", "forgot password link"], "Forgotten your password?"
    ),
    **dict.fromkeys(["basket", "cart", "shopping cart", "shopping basket", "add to cart", "add to basket"], "basket"),
}


# Policy values a reply may name, taken from the shop's own articles: placeholder -> (a pattern the
# article's sentence must hold, a pattern it must not, the pattern of the value, found after the
# first). A library reply says "within {{Return Window}} of delivery" and gets this shop's window,
# quoted from its returns article.
DURATION_VALUE = (
    r"\b\d+(?:\s*(?:-|–|to)\s*\d+)?\s+(?:working\s+|business\s+|calendar\s+)?(?:days?|hours?|weeks?|months?)\b"
)
POLICY_SLOTS = {
    **dict.fromkeys(
        ["return window", "return period", "returns window", "return policy period"],
        (r"\b(?:return|send back)\b", r"\brefund", DURATION_VALUE),
    ),
    **dict.fromkeys(["refund time", "refund period", "refund processing time"], (r"\brefund", "", DURATION_VALUE)),
    **dict.fromkeys(
        ["delivery time", "delivery period", "shipping time", "estimated delivery time"],
        (r"\bdelivery\b", "", DURATION_VALUE),
    ),
    **dict.fromkeys(
        ["payment methods", "payment options", "accepted payment options", "accepted payment methods"],
        (r"\bwe accept\b", "", r"[^.;]+"),
    ),
}


def policy_value(
    articles: Sequence[ArticleFact], keyword: str, exclude: str, pattern: str
) -> tuple[str, ArticleFact, str] | None:
    """(value, article, the sentence it is quoted from): the first article sentence that holds ``keyword``
    (and not ``exclude``) with a value after it."""
    for article in articles:
        for sentence in re.split(r"(?<=[.!?])\s+", article.body):
            found = re.search(keyword, sentence, re.I)
            if found is None or (exclude and re.search(exclude, sentence, re.I)):
                continue
            match = re.compile(pattern).search(sentence, found.end())
            if match and match.group(0).strip():
                return match.group(0).strip(), article, sentence.strip()
    return None


# What a customer says about themselves that a reply may repeat back as they said it (it states
# nothing the shop would have to stand behind): the kind of account they mean ("my platinum account").
ACCOUNT_TYPE_RE = re.compile(
    r"\b(freemium|free|platinum|pro|premium|gold|silver|standard|basic|business|student|family)\b"
    r"(?=[\s-]+(?:\w+\s+)?(?:account|plan|membership|subscription|tier)\b)",
    re.I,
)
# The order or invoice number the customer writes ("cancel order 00004587345", "invoice #INV-2231"):
# a reply may say it back ("your order 00004587345") instead of asking for it again; it backs nothing
# else (no date, amount or status: those come from the shop's own order rows only).
STATED_REFERENCE_RE = re.compile(
    r"\b(order|purchase|invoice|bill)s?\b(?:\s+(?:number|no\.?|id|reference|code))?\s*(?:is\s+)?[:#]?\s*"
    r"(?<![\w-])((?:[A-Z]{1,4}-?)?\d[\d-]{3,}[A-Z0-9]*)\b",
    re.I,
)
INVOICE_SLOTS = frozenset({"invoice number", "invoice id", "bill number", "invoice"})
STATED_SLOTS = {
    "account type": "account type",
    "account level": "account type",
    "plan": "account type",
    **dict.fromkeys(INVOICE_SLOTS, "invoice number"),
}


def stated_facts(customer_text: str) -> dict[str, str]:
    """Facts the customer states about themselves: ``{"account type": "platinum", "order number": "1234567"}``."""
    stated = {}
    match = ACCOUNT_TYPE_RE.search(customer_text or "")
    if match:
        stated["account type"] = match.group(1).lower()
    for match in STATED_REFERENCE_RE.finditer(customer_text or ""):
        kind = "invoice number" if match.group(1).lower() in ("invoice", "bill") else "order number"
        stated.setdefault(kind, match.group(2).strip("-"))
    return stated


def canonical(placeholder: str) -> str:
    name = placeholder.strip().lower().replace("_", " ")
    name = re.sub(r"\s+anonymi[sz]ed$", "", name)
    return re.sub(r"\s+", " ", name)


def contact_facts(articles: Sequence[ArticleFact]) -> dict[str, tuple[str, ArticleFact]]:
    """``Label: value`` lines of the contact article(s): {"Phone": ("+44 ...", article), ...}."""
    found: dict[str, tuple[str, ArticleFact]] = {}
    for article in articles:
        if CONTACT_TAG not in article.tags:
            continue
        for match in CONTACT_LINE_RE.finditer(article.body):
            label = match.group(1).strip().capitalize()
            found.setdefault(label, (match.group(2).strip(), article))
    return found


@dataclass
class GatheredFacts:
    """Everything a draft may state, and where each piece comes from."""

    customer_name: str = ""
    orders: tuple[OrderFact, ...] = ()
    linked_order_numbers: tuple[str, ...] = ()
    articles: list[ArticleFact] = field(default_factory=list)  # retrieved for this ticket
    contact_articles: list[ArticleFact] = field(default_factory=list)  # always available
    shop_name: str = ""
    # Every article of the shop: where policy values ({{Return Window}}) are looked up. An article a
    # value is taken from joins ``articles``, so the checks and the citations know it.
    policy_articles: list[ArticleFact] = field(default_factory=list)
    # What the customer said about themselves (``stated_facts``), repeated back as they said it.
    stated: dict[str, str] = field(default_factory=dict)

    @property
    def order(self) -> OrderFact | None:
        """The order the ticket is about: the linked one, else the one whose number the customer wrote, else
        the customer's only order."""
        linked = [o for o in self.orders if o.number in self.linked_order_numbers]
        stated = self.stated.get("order number", "").lower()
        if not linked and stated:
            linked = [o for o in self.orders if o.number.lower() == stated]
        if len(linked) == 1:
            return linked[0]
        if not linked and len(self.orders) == 1:
            return self.orders[0]
        return None

    @property
    def order_numbers(self) -> set[str]:
        return {o.number for o in self.orders}

    @property
    def stated_order_number(self) -> str:
        """The order number the customer wrote, when a reply may say it back: it is one of their orders, or
        none of theirs is on file (a number that is not among the orders the shop holds for them is not
        repeated as theirs: the reply asks instead)."""
        number = self.stated.get("order number", "")
        if number and (not self.orders or number.lower() in {n.lower() for n in self.order_numbers}):
            return number
        return ""

    @property
    def stated_references(self) -> set[str]:
        """The order and invoice numbers a reply may repeat because the customer wrote them."""
        return {n for n in (self.stated_order_number, self.stated.get("invoice number", "")) if n}

    @property
    def all_articles(self) -> list[ArticleFact]:
        seen, result = set(), []
        for article in [*self.articles, *self.contact_articles]:
            if article.id not in seen:
                seen.add(article.id)
                result.append(article)
        return result

    @property
    def contact(self) -> dict[str, tuple[str, ArticleFact]]:
        return contact_facts(self.contact_articles)

    def placeholder_names(self) -> list[str]:
        """The placeholders a reply to this ticket can use (for the chat prompt)."""
        names = ["Customer Support Phone Number", "Customer Support Email", "Customer Support Hours", "Website URL"]
        names += ["Order History", "Profile", "Address Book", "Support", "Live Chat"]
        if self.order is not None:
            names = ["Order Number", "Order Total", "Order Date", "Order Status", *names]
            if self.order.tracking:
                names.insert(1, "Tracking Number")
        if self.customer_name:
            names.insert(0, "Customer Name")
        return names

    def resolve(self, placeholder: str) -> tuple[str, dict] | None:
        """(value, citation without span) for a placeholder, or None when no fact fills it."""
        name = canonical(placeholder)
        if name in ORDER_FIELDS:
            order = self.order
            field_name = ORDER_FIELDS[name]
            if order is None:
                if field_name == "number" and self.stated_order_number:
                    number = self.stated_order_number
                    return number, {"kind": "customer", "field": "order number", "value": number}
                return None
            value = getattr(order, field_name) or ""
            if not value:
                return None
            if field_name == "total":
                value = f"{order.total} {order.currency}".strip()
            return value, {"kind": "order", "number": order.number, "field": field_name, "value": value}
        if name in NAME_PLACEHOLDERS:
            if not self.customer_name:
                return None
            return self.customer_name, {"kind": "customer", "field": "name", "value": self.customer_name}
        if name in CONTACT_FIELDS:
            label = CONTACT_FIELDS[name]
            contact = self.contact
            if label == "Shop" and label not in contact and self.shop_name:
                return self.shop_name, {"kind": "shop", "field": "name", "value": self.shop_name}
            if label not in contact:
                return None
            value, article = contact[label]
            quote = f"{label}: {value}"
            return value, {"kind": "article", "id": article.id, "title": article.title, "quote": quote}
        if name == "website name":
            shop = self.contact.get("Shop", (self.shop_name, None))[0]
            return (f"{shop} website" if shop else "website"), {"kind": "shop", "field": "website", "value": shop}
        if name in UI_LABELS:
            return UI_LABELS[name], {"kind": "page", "value": UI_LABELS[name]}
        if name in STATED_SLOTS and STATED_SLOTS[name] in self.stated:
            value = self.stated[STATED_SLOTS[name]]
            return value, {"kind": "customer", "field": STATED_SLOTS[name], "value": value}
        if name in POLICY_SLOTS:
            # The ticket's own articles first, then the rest of the shop's.
            found = policy_value([*self.articles, *self.policy_articles], *POLICY_SLOTS[name])
            if found is None:
                return None
            value, article, sentence = found
            if all(a.id != article.id for a in self.articles):
                self.articles.append(article)
            return value, {"kind": "article", "id": article.id, "title": article.title, "quote": sentence}
        return None

    def fill(self, text: str) -> tuple[str, list[dict], list[str]]:
        """(filled text, citations with spans into it, placeholders left unfilled)."""
        citations: list[dict] = []
        unfilled: list[str] = []
        out: list[str] = []
        position = 0
        length = 0
        for match in PLACEHOLDER_RE.finditer(text):
            before = text[position : match.start()]
            out.append(before)
            length += len(before)
            resolved = self.resolve(match.group(1))
            if resolved is None:
                unfilled.append(match.group(1))
                out.append(match.group(0))
                length += len(match.group(0))
            else:
                value, citation = resolved
                out.append(value)
                if citation["kind"] in ("order", "article"):
                    citations.append({**citation, "start": length, "end": length + len(value)})
                length += len(value)
            position = match.end()
        out.append(text[position:])
        return "".join(out), citations, unfilled
