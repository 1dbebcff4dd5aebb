"""Demo product questions: a handful asked by demo customers, so a new user sees answers at once.

The questions go through ``qa.services.ask`` like any customer's; the worker ``bin/demo`` starts answers
them (auto-publish is on in the demo), and one order question shows the hand-over to support.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from oscar.core.loading import get_model

from oscar_llm.models import Feature, FeatureSwitch, ProductQuestion

# (what the product's title contains, the question). Answered from the facts, the copy or the policies.
QUESTIONS = (
    ("Dress", "What material is this dress made of?"),
    ("Dress", "Can I return it if it doesn't fit?"),
    ("Shirt", "What colour is this shirt?"),
    ("Shoes", "What size are these shoes?"),
    ("Watch", "Which brand makes this watch?"),
    ("Dress", "Where is my parcel? I ordered last week."),
)


def ensure_questions(customer_emails: list[str]) -> int:
    """Ask the demo questions once (by the first demo customers); returns how many were asked now."""
    from oscar_llm.qa import services

    FeatureSwitch.set(Feature.QA, enabled=True, auto_publish=True)
    customers = list(get_user_model().objects.filter(email__in=customer_emails).order_by("pk")[:6])
    if not customers:
        return 0
    Product = get_model("catalogue", "Product")
    asked = 0
    for index, (word, text) in enumerate(QUESTIONS):
        if ProductQuestion.objects.filter(text=text).exists():
            continue
        product: Any = Product.objects.browsable().filter(title__icontains=word).order_by("pk").first()
        if product is None:
            continue
        try:
            services.ask(product, customers[index % len(customers)], text, rate_key=f"demo:{index}")
        except services.QAError:
            continue
        asked += 1
    return asked
