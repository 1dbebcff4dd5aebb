"""Time from a customer's message to a draft ready for staff, with the shop model on this machine.

    .venv/bin/python bench/bench_support.py --model var/shop_model --n 40

The shop model directory must have its triage next to it (``oscar_llm_train --support CSV``
writes both). Demo customers open N tickets about their own orders with texts from the Bitext
tickets; each message's drafting job then runs through the worker's own code path
(``jobs.run_claimed``: claim, build the requests from the ORM, triage, retrieval, generation,
checks, store the draft). Two arrival patterns:

- one at a time: each ticket is drafted before the next arrives (a quiet shop);
- burst: all N arrive together and the worker drafts them in its batches (a busy morning).

Latency is ``draft.created_at - message.created_at``. The one-off model load of a worker process
is reported separately. Prints a few lines and, last, a JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("OSCAR_LLM_DATA", ROOT.parent / "shared" / "data"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def ticket_texts(path: Path, n: int, offset: int) -> list[tuple[str, str]]:
    """(intent, instruction) for N tickets spread over the intents of the file."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    step = max(1, len(rows) // (n + offset))
    picked = rows[offset * step :: step][:n]
    return [(r["intent"], r["instruction"]) for r in picked]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(ROOT / "var" / "shop_model"), help="Shop model dir (triage beside it).")
    parser.add_argument("--tickets", default=str(DEFAULT_DATA / "support" / "bitext_tickets_public.csv"))
    parser.add_argument("--n", type=int, default=40, help="Tickets per arrival pattern.")
    args = parser.parse_args()

    # The shop model directory: the text model and, beside it, its triage.
    os.environ["OSCAR_LLM_MODEL_DIR"] = str(Path(args.model).resolve())
    sys.path.insert(0, str(ROOT / "bench"))
    from _setup import django_setup, ensure_demo_shop

    django_setup()
    ensure_demo_shop()

    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    from oscar_llm.jobs import run_claimed
    from oscar_llm.models import Feature, FeatureSwitch, Job, ReplyDraft, Ticket
    from oscar_llm.support import desk, drafting_jobs, kinds, queries
    from oscar_llm.support.triage import default_triage_dir

    FeatureSwitch.set(Feature.SUPPORT, enabled=True)
    cache.clear()
    customers = [u for u in get_user_model().objects.filter(orders__isnull=False).distinct().order_by("pk")[:25]]
    if not customers:
        raise SystemExit("The bench database has no customers with orders; run oscar_llm_demo_data.")
    print(f"model {os.environ['OSCAR_LLM_MODEL_DIR']}, triage {default_triage_dir()}")

    started = time.perf_counter()
    drafting_jobs.get_drafter()
    load_s = time.perf_counter() - started
    print(f"worker start-up (models loaded once per process): {load_s:.1f}s")

    def open_tickets(texts: list[tuple[str, str]], tag: str) -> list[Ticket]:
        tickets = []
        for i, (_intent, text) in enumerate(texts):
            customer = customers[i % len(customers)]
            order = queries.customer_orders(customer).first()
            tickets.append(desk.open_ticket(customer, f"[bench {tag}] {text[:60]}", text, order=order))
        return tickets

    def latencies(tickets: list[Ticket]) -> tuple[list[float], dict[str, int]]:
        values, outcome = [], {"draft": 0, "needs_human": 0}
        for ticket in tickets:
            draft = ReplyDraft.objects.get(ticket=ticket)
            message = draft.message
            values.append((draft.created_at - message.created_at).total_seconds())
            outcome["needs_human" if draft.needs_human else "draft"] += 1
        return values, outcome

    def job_ids(tickets: list[Ticket]) -> list[int]:
        ids = [m.pk for t in tickets for m in t.messages.all()]
        return list(Job.objects.filter(kind=kinds.DRAFT_JOB, target_id__in=ids).values_list("pk", flat=True))

    results = {}
    texts = ticket_texts(Path(args.tickets), args.n * 2, offset=1)
    # One at a time: the message arrives, the worker takes its job, the draft is stored.
    quiet = []
    for text in texts[: args.n]:
        [ticket] = open_tickets([text], "quiet")
        run_claimed(kinds.DRAFT_JOB, job_ids([ticket]))
        quiet.append(ticket)
    # Burst: every message is in before the worker starts; it claims them in batches.
    burst = open_tickets(texts[args.n :], "burst")
    run_claimed(kinds.DRAFT_JOB, job_ids(burst))

    for name, tickets in (("one_at_a_time", quiet), ("burst", burst)):
        values, outcome = latencies(tickets)
        results[name] = {
            "tickets": len(values),
            "median_s": round(statistics.median(values), 3),
            "p95_s": round(percentile(values, 0.95), 3),
            "max_s": round(max(values), 3),
            **outcome,
        }
        r = results[name]
        print(
            f"{name:>14}: {r['tickets']} tickets, message -> ready draft median {r['median_s']:.2f}s, "
            f"p95 {r['p95_s']:.2f}s (drafts {r['draft']}, needs a human {r['needs_human']})"
        )
    print(json.dumps({"model": os.environ["OSCAR_LLM_MODEL_DIR"], "worker_startup_s": round(load_s, 2), **results}))


if __name__ == "__main__":
    main()
