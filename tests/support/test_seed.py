"""The support desk's seed tickets: what they cover, that their replies pass the draft checks, and that a
machine with nothing but the repository fits the triage from them and drafts replies to demo tickets."""

from __future__ import annotations

import io
import json
import re
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command

from oscar_llm.demo.knowledge_base import article_facts
from oscar_llm.demo.support_seed import INTENTS, ROWS_PER_INTENT, seed_rows, write_seed_csv
from oscar_llm.support.facts import PLACEHOLDER_RE, GatheredFacts
from oscar_llm.support.training import MAX_TARGET_CHARS, read_tickets_csv, support_pairs, template_target
from tests.support import helpers

# The intents the triage knows (the public Bitext set) and their categories, named here so this
# test reads no public data.
BITEXT_INTENTS = {
    "cancel_order": "ORDER", "change_order": "ORDER", "place_order": "ORDER", "track_order": "ORDER",
    "change_shipping_address": "SHIPPING_ADDRESS", "set_up_shipping_address": "SHIPPING_ADDRESS",
    "check_cancellation_fee": "CANCELLATION_FEE", "check_invoice": "INVOICE", "get_invoice": "INVOICE",
    "check_payment_methods": "PAYMENT", "payment_issue": "PAYMENT", "check_refund_policy": "REFUND",
    "get_refund": "REFUND", "track_refund": "REFUND", "complaint": "FEEDBACK", "review": "FEEDBACK",
    "contact_customer_service": "CONTACT", "contact_human_agent": "CONTACT", "create_account": "ACCOUNT",
    "delete_account": "ACCOUNT", "edit_account": "ACCOUNT", "switch_account": "ACCOUNT",
    "recover_password": "ACCOUNT", "registration_problems": "ACCOUNT", "delivery_options": "DELIVERY",
    "delivery_period": "DELIVERY", "newsletter_subscription": "NEWSLETTER",
}  # fmt: skip


def test_every_intent_has_twenty_varied_phrasings_and_the_same_rows_every_run():
    rows = seed_rows()
    assert rows == seed_rows()  # derived from code and fixed seeds alone
    assert {r["intent"]: r["category"] for r in rows} == BITEXT_INTENTS == {i: s.category for i, s in INTENTS.items()}
    by_intent = defaultdict(list)
    for row in rows:
        by_intent[row["intent"]].append(row["instruction"])
    texts = [" ".join(r["instruction"].lower().split()) for r in rows]
    assert len(set(texts)) == len(texts)  # no message twice, not even under two intents
    for intent, messages in by_intent.items():
        assert len(messages) == ROWS_PER_INTENT >= 20, intent
        assert len(INTENTS[intent].asks) >= 12, intent  # distinct phrasings, each written several ways
        lengths = sorted(len(m) for m in messages)
        assert lengths[0] <= 40 and lengths[-1] >= 90, (intent, lengths[0], lengths[-1])  # short and long ones
        assert any(m == m.lower() for m in messages) and any(m[0].isupper() for m in messages), intent
    # Typos and chat spelling, order numbers like the demo shop's, signatures.
    words = Counter(w for t in texts for w in re.findall(r"[a-z]+", t))
    assert sum(words[w] for w in ("adress", "acount", "pasword", "recieve", "refnd", "ordr", "oder", "pls", "u")) >= 30
    with_order = [r for r in rows if r["entity_type"] == "order_id"]
    signed = [r for r in rows if r["entity_type"] == "person_name"]
    assert len(with_order) >= 60 and len(signed) >= 30
    assert all(re.fullmatch(r"1\d{5}", r["entity_value"]) and r["entity_value"] in r["instruction"] for r in with_order)
    assert all(r["instruction"].rstrip().endswith(r["entity_value"]) for r in signed)


def test_seed_replies_pass_the_draft_checks_and_use_only_fillable_placeholders():
    """Every reply states only what the demo articles say; its placeholders are the ones facts fill."""
    rows = seed_rows()
    articles = article_facts()
    by_tag = support_pairs(rows, articles)
    assert by_tag.dropped == 0, by_tag.drop_details.most_common(5)
    assert len(by_tag) == len(rows) and set(by_tag.by_intent) == set(BITEXT_INTENTS)
    fillable = GatheredFacts(contact_articles=[a for a in articles if "contact" in a.tags], policy_articles=articles)
    for row in rows:
        target, has_order, has_name = template_target(row)
        assert target == row["response"] and len(target) <= MAX_TARGET_CHARS  # never cut short
        assert has_order == (row["entity_type"] == "order_id") and has_name == (row["entity_type"] == "person_name")
        assert ("{{Order Number}}" in target) <= has_order and ("{{Customer Name}}" in target) == has_name
        for match in PLACEHOLDER_RE.finditer(target):
            name = match.group(1)
            order_fields = {"Order Number", "Order Status", "Order Date", "Order Total", "Customer Name"}
            assert name in order_fields or fillable.resolve(name), name
    # As the tiny model's training builds them: articles retrieved by meaning, as drafting retrieves them.
    by_meaning = helpers.seed_pairs()
    assert by_meaning.dropped == 0, by_meaning.drop_details.most_common(5)


def test_seed_csv_is_a_bitext_format_file(tmp_path):
    path = tmp_path / "var" / "support_seed.csv"
    written = write_seed_csv(path)
    assert written == {"path": str(path.resolve()), "rows": 27 * ROWS_PER_INTENT, "intents": 27}
    assert read_tickets_csv(written["path"]) == seed_rows()
    assert not list(tmp_path.glob("var/*.tmp"))


def test_demo_data_writes_the_seed_under_var_dir(settings, tmp_path):
    from oscar_llm.management.commands.oscar_llm_demo_data import default_seed_path

    settings.VAR_DIR = tmp_path / "var"
    assert default_seed_path() == tmp_path / "var" / "support_seed.csv"


@pytest.mark.django_db
def test_train_takes_several_ticket_files(tmp_path, settings):
    """``--support`` more than once: the seed tickets next to another file, read as one set."""
    from oscar_llm.support.triage import IntentClassifier

    rows = seed_rows()
    first = helpers.write_csv(rows[::4], tmp_path / "a.csv")
    second = helpers.write_csv(rows[1::4], tmp_path / "b.csv")
    settings.OSCAR_LLM = {**getattr(settings, "OSCAR_LLM", {}), "MODEL_DIR": str(tmp_path / "shop_model")}
    out = io.StringIO()
    call_command(
        "oscar_llm_train", "--support", str(first), "--support", str(second), "--triage-only", "--json", "-v", "0",
        stdout=out,
    )  # fmt: skip
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["support_files"] == {str(first): len(rows[::4]), str(second): len(rows[1::4])}
    assert summary["triage"]["examples"] == len(rows[::4]) + len(rows[1::4]) and summary["triage"]["intents"] == 27
    assert "a.csv, " in out.getvalue() and str(tmp_path / "shop_model.triage") in out.getvalue()
    assert IntentClassifier.load(tmp_path / "shop_model.triage").labels == sorted(BITEXT_INTENTS)


@pytest.mark.django_db
def test_a_fresh_machine_drafts_checked_replies_to_demo_tickets_from_the_seed_alone(
    tmp_path, monkeypatch, settings, customer, make_order, support_on, knowledge_base
):
    """No public data anywhere: the seed CSV fits the triage (``oscar_llm_train --support seed.csv``, as
    ``bin/demo`` runs it), the shop model is the one trained on the seed tickets, and the demo tickets get
    drafts that pass every check."""
    from oscar_llm import jobs
    from oscar_llm.demo.support import DEMO_TICKETS, ensure_library
    from oscar_llm.llm import registry
    from oscar_llm.models import Job
    from oscar_llm.support import desk, drafting_jobs, kinds

    empty = tmp_path / "no_shared_data"
    empty.mkdir()
    monkeypatch.setenv("OSCAR_LLM_DATA", str(empty))
    monkeypatch.setattr(helpers, "BITEXT", empty / "support" / "bitext_tickets_public.csv")
    with pytest.raises(FileNotFoundError):
        helpers.bitext_rows()
    model = helpers.tiny_support_model_dir()  # trained on the seed tickets only

    seed = write_seed_csv(tmp_path / "var" / "support_seed.csv")
    shop_model = tmp_path / "var" / "shop_model"
    settings.OSCAR_LLM = {**getattr(settings, "OSCAR_LLM", {}), "MODEL": model, "MODEL_DIR": str(shop_model)}
    call_command("oscar_llm_train", "--support", seed["path"], "--triage-only", "-v", "0", stdout=io.StringIO())
    assert (tmp_path / "var" / "shop_model.triage" / "triage.npz").is_file()

    registry.clear()
    drafting_jobs.clear_drafters()
    ensure_library()  # as oscar_llm_demo_data does before it opens the demo tickets
    try:
        tickets, orders = [], {}
        for _index, subject, body in DEMO_TICKETS:
            order = make_order(customer, city="Leeds")
            orders[subject] = order
            tickets.append(desk.open_ticket(customer, subject, body.format(number=order.number), order=order))
        _token, claimed = jobs.claim(list(Job.objects.filter(kind=kinds.DRAFT_JOB).values_list("pk", flat=True)))
        drafts = drafting_jobs.run_draft_jobs(claimed)
    finally:
        registry.clear()
        drafting_jobs.clear_drafters()

    assert len(drafts) == len(DEMO_TICKETS)
    passed = [d for d in drafts if not d.needs_human]
    for draft in passed:
        assert draft.text and all(c["passed"] for c in draft.checks), draft.checks
        assert "{{" not in draft.text and any(c["kind"] == "article" for c in draft.citations)
    assert len(passed) == len(DEMO_TICKETS), [(d.ticket.subject, d.reasons) for d in drafts]
    # Each names its real order (and, where the reply is about the order, its date and amount) and
    # quotes the shop's own policy values from its articles.
    for draft in drafts:
        order = orders[draft.ticket.subject]
        assert order.number in draft.text, draft.text
        assert draft.template is not None and draft.template.source == "pattern", draft.facts.get("library")
    by_subject = {d.ticket.subject: d.text for d in drafts}
    for subject in ("Where is my parcel?", "Invoice for my order"):
        order = orders[subject]
        assert order.date_placed.date().isoformat() in by_subject[subject]
        assert f"{order.total_incl_tax} {order.currency}" in by_subject[subject]
    assert "within 30 days of delivery" in by_subject["Returning a jacket"]  # the returns article's window
    for ticket in tickets:
        ticket.refresh_from_db()
    intents = {ticket.subject: ticket.intent for ticket in tickets}
    assert intents["Where is my parcel?"] == "track_order" and intents["Invoice for my order"] == "get_invoice"
