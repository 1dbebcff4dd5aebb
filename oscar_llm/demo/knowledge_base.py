# ruff: noqa: E501  (policy prose: one paragraph per line reads and diffs better than wrapped strings)
"""The demo shop's policies (Alder & Finch, prices in GBP), written by the project.

``oscar_llm_demo_data`` turns these into KnowledgeArticle rows; the evaluation
falls back to them when the table is empty. The figures are consistent across
articles (30-day returns, refunds within 5-10 business days, free UK standard
delivery over £50...) because the draft checks hold every policy statement in a
reply to what these texts say. Tags name the Bitext intents each article
answers, so retrieval can prefer them for a ticket of that intent.

The "Contact" article's ``Label: value`` lines are the shop's contact facts
(phone, e-mail, hours, website); drafts fill ``{{Customer Support Phone
Number}}``-style placeholders from them and nowhere else.
"""

from __future__ import annotations

from ..support.types import ArticleFact

ARTICLES: list[dict[str, object]] = [
    {
        "slug": "contact",
        "title": "Contacting customer support",
        "tags": ["contact", "contact_customer_service", "contact_human_agent", "complaint"],
        "body": """Our customer support team answers every message personally. The quickest way to reach us is a support ticket from your account: open Support in your account, choose the order it is about and write to us.

Shop: Alder & Finch
Website: www.alderandfinch.example
Phone: +44 20 7946 0000
Email: support@alderandfinch.example
Hours: Monday to Friday, 9am to 5pm UK time
Live chat: the chat window on our website, during opening hours

We reply to tickets and e-mails within one working day. If you would like to speak to a person, ask for a human agent in your ticket or call us during opening hours and a member of the team will take over your case.

Complaints: if something went wrong, tell us in a ticket what happened and which order it concerns. A team leader reviews every complaint and replies within two working days.""",
    },
    {
        "slug": "shipping",
        "title": "Shipping options and costs",
        "tags": ["shipping", "delivery_options", "set_up_shipping_address", "change_shipping_address"],
        "body": """We deliver to the United Kingdom, the European Union and most other countries. You choose a shipping method at checkout; its cost is shown before you pay.

UK standard delivery costs £3.95 and is free on orders over £50. UK express delivery costs £7.95. EU delivery costs £12.50 and delivery to the rest of the world costs £19.50.

Shipping address: you can save several addresses in the Address Book of your account and pick one at checkout. To change the shipping address of an order that has not been dispatched yet, open a support ticket about that order; once an order has been dispatched its address can no longer be changed.

We do not deliver to PO boxes or parcel lockers.""",
    },
    {
        "slug": "delivery-times",
        "title": "Delivery times and tracking",
        "tags": ["delivery", "delivery_period", "track_order", "delivery_options"],
        "body": """Orders placed on a working day before 2pm UK time are dispatched the same day; all other orders are dispatched within one working day.

UK standard delivery takes 2 to 4 working days after dispatch. UK express delivery arrives on the next working day after dispatch. EU delivery takes 5 to 8 working days and delivery to the rest of the world takes 7 to 14 working days.

When your order is dispatched we e-mail you its tracking number. You can also see the status and tracking number of every order in the Order History of your account. If your parcel has not arrived 5 working days after the expected date, open a support ticket and we will trace it with the carrier.""",
    },
    {
        "slug": "returns",
        "title": "Returns policy",
        "tags": ["returns", "get_refund", "check_refund_policy", "complaint"],
        "body": """You can return any item within 30 days of delivery. Items must be unworn, unwashed and have their original tags.

Returns within the UK are free: open a support ticket about the order and we send you a prepaid return label. Customers outside the UK pay for return postage.

Earrings, swimwear with a removed hygiene seal and gift cards cannot be returned unless they are faulty. Faulty items can be returned within 30 days of delivery, and we also refund the original shipping cost for them.""",
    },
    {
        "slug": "refunds",
        "title": "Refunds",
        "tags": ["refunds", "get_refund", "track_refund", "check_refund_policy"],
        "body": """We refund returned items to the original payment method within 5 to 10 business days of receiving your return. Cancelled orders are refunded within 5 to 10 business days of the cancellation.

The original shipping cost is refunded when the whole order is returned within 14 days of delivery or when an item is faulty. Return postage from outside the UK is not refunded.

We send an e-mail when your refund has been issued, and the refund appears in the Order History of your account. Your bank may take a few more days to show it. We refund only items that have been returned or orders that have been cancelled; we do not offer compensation, discounts or vouchers in place of a refund.""",
    },
    {
        "slug": "exchanges",
        "title": "Exchanges",
        "tags": ["exchanges", "change_order", "returns"],
        "body": """You can exchange an item for another size or colour of the same product within 30 days of delivery. Exchanges within the UK are free: open a support ticket about the order and tell us the size or colour you would like.

We dispatch the new item when we receive the original. If the size or colour you want is out of stock, we refund the item instead, within 5 to 10 business days of receiving it.

To change an order that has not been dispatched yet (a size, a colour or the quantity), open a support ticket about that order; once an order has been dispatched, use an exchange or a return instead.""",
    },
    {
        "slug": "cancellations",
        "title": "Cancelling an order",
        "tags": ["cancellations", "cancel_order", "check_cancellation_fee", "change_order"],
        "body": """You can cancel an order free of charge until it is dispatched. There is no cancellation fee. Open a support ticket about the order and ask us to cancel it; a member of the team confirms the cancellation by e-mail.

Once an order has been dispatched it can no longer be cancelled, but you can return it within 30 days of delivery under our returns policy.

Cancelled orders are refunded to the original payment method within 5 to 10 business days.""",
    },
    {
        "slug": "payment",
        "title": "Payment methods and payment problems",
        "tags": ["payment", "check_payment_methods", "payment_issue", "place_order"],
        "body": """We accept Visa, Mastercard, American Express and PayPal. Prices are in pounds sterling (GBP) and include VAT. We charge your card when you place the order and there are no payment fees.

To place an order, add the items to your basket, go to the checkout, choose a shipping address and method and pay. You receive an order confirmation by e-mail.

If a payment is declined, check that the billing address matches the address your bank has for the card, or try another payment method. We never ask for your card number by e-mail or in a ticket: please do not send it to us.""",
    },
    {
        "slug": "invoices",
        "title": "Invoices",
        "tags": ["invoices", "check_invoice", "get_invoice"],
        "body": """Every order comes with a VAT invoice. We e-mail it when the order is dispatched, and you can see the invoice for every order in the Order History of your account.

If you need an invoice with a company name or a VAT number, or a copy of an older invoice, open a support ticket with the order number and we send it within one working day.""",
    },
    {
        "slug": "accounts",
        "title": "Your account",
        "tags": [
            "accounts",
            "create_account",
            "edit_account",
            "delete_account",
            "switch_account",
            "recover_password",
            "registration_problems",
        ],
        "body": """Create an account with your e-mail address and a password from the Register link at the top of any page. An account keeps your Order History, your Address Book and your Profile.

To change your name or e-mail address, open the Profile page of your account; to change your password, use Change Password on the same page. If you have forgotten your password, use the "Forgotten your password?" link on the login page and we e-mail you a reset link.

If registration fails, check that the e-mail address is not already registered; if it is, use the password reset link. To close your account, open a support ticket and we delete it within 30 days; we keep order records for 6 years because tax law requires it.

There is one type of customer account; to use a different e-mail address, log out and register again or change the address on your Profile page.""",
    },
    {
        "slug": "newsletter",
        "title": "Newsletter",
        "tags": ["newsletter", "newsletter_subscription"],
        "body": """Our newsletter brings new arrivals and style notes once a week. Subscribe on the Profile page of your account or at the checkout.

Every newsletter has an unsubscribe link at the bottom, and you can also unsubscribe on your Profile page. We never share your e-mail address with other companies.""",
    },
    {
        "slug": "reviews",
        "title": "Reviews and feedback",
        "tags": ["reviews", "review", "complaint"],
        "body": """We welcome your feedback. You can write a review on the page of any product you have bought, and we publish it after a quick check for personal data.

For feedback about our service, open a support ticket: every message is read by the team.""",
    },
]


def article_facts() -> list[ArticleFact]:
    """The demo articles as :class:`ArticleFact` values (ids 1..n, in order)."""
    return [
        ArticleFact(id=i, title=str(a["title"]), body=str(a["body"]), tags=tuple(a["tags"]))  # type: ignore[arg-type]
        for i, a in enumerate(ARTICLES, start=1)
    ]
