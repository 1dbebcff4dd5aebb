"""Queue product copy generation, optionally running it here and waiting."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand, CommandError
from oscar.core.loading import get_model
from tqdm import tqdm

from oscar_llm.content import services
from oscar_llm.jobs import run_claimed
from oscar_llm.models import ContentDraft, Job


class Command(BaseCommand):
    help = "Queue generation of product titles, descriptions and meta descriptions."

    def add_arguments(self, parser):
        parser.add_argument("--product", type=int, action="append", help="Product id (repeatable); default all.")
        parser.add_argument("--kind", action="append", choices=services.KINDS, help="Kinds (repeatable).")
        parser.add_argument("--segment", action="append", help="Segments (repeatable); default all.")
        parser.add_argument("--force", action="store_true", help="Write new drafts even if inputs are unchanged.")
        parser.add_argument(
            "--inline", action="store_true", help="Run the jobs in this process instead of waiting for a worker."
        )
        parser.add_argument("--wait", action="store_true", help="Wait until a worker has finished the jobs.")
        parser.add_argument("--timeout", type=int, default=3600, help="Seconds to wait with --wait.")
        parser.add_argument("--json", action="store_true", help="Print a JSON summary as the last line.")

    def handle(self, *args, **opts):
        Product = get_model("catalogue", "Product")
        products = Product.objects.filter(is_public=True).order_by("pk")
        if opts["product"]:
            products = products.filter(pk__in=opts["product"])
            if not products.exists():
                raise CommandError(f"No public products with ids {opts['product']}.")
        started = time.monotonic()
        created: list[Job] = []
        for product in tqdm(products, total=products.count(), desc="Queueing", unit="product", disable=opts["json"]):
            created += services.request_generation(
                product, kinds=opts["kind"], segments=opts["segment"], force=opts["force"]
            )
        ids = [j.pk for j in created]
        if opts["inline"]:
            with tqdm(total=len(ids), desc="Generating", unit="text", disable=opts["json"]) as bar:
                for kind in sorted({j.kind for j in created}):
                    kind_ids = [j.pk for j in created if j.kind == kind]
                    for start in range(0, len(kind_ids), 32):
                        bar.update(run_claimed(kind, kind_ids[start : start + 32]))
        elif opts["wait"]:
            self._wait(ids, opts["timeout"], quiet=opts["json"])
        jobs = Job.objects.filter(pk__in=ids)
        drafts = ContentDraft.objects.filter(job__in=ids)
        summary = {
            "products": products.count(),
            "jobs_created": len(ids),
            "jobs_done": jobs.filter(status=Job.Status.DONE).count(),
            "jobs_failed": jobs.filter(status=Job.Status.FAILED).count(),
            "jobs_pending": jobs.filter(status__in=[Job.Status.PENDING, Job.Status.RUNNING]).count(),
            "drafts": drafts.count(),
            "drafts_accepted": drafts.exclude(status=ContentDraft.Status.REJECTED).count(),
            "drafts_rejected": drafts.filter(status=ContentDraft.Status.REJECTED).count(),
            "seconds": round(time.monotonic() - started, 2),
        }
        errors = list(jobs.exclude(error="").values_list("error", flat=True)[:1])
        if errors:
            summary["first_error"] = errors[0]
        self.stdout.write(
            f"Queued {summary['jobs_created']} jobs for {summary['products']} products; "
            f"{summary['jobs_done']} done, {summary['jobs_failed']} failed, {summary['jobs_pending']} pending; "
            f"{summary['drafts_accepted']} drafts passed the checks, {summary['drafts_rejected']} rejected "
            f"({summary['seconds']} s)."
        )
        if opts["json"]:
            self.stdout.write(json.dumps(summary))

    def _wait(self, ids: list[int], timeout: int, quiet: bool) -> None:
        deadline = time.monotonic() + timeout
        with tqdm(total=len(ids), desc="Waiting for workers", unit="job", disable=quiet) as bar:
            while time.monotonic() < deadline:
                finished = Job.objects.filter(pk__in=ids, status__in=[Job.Status.DONE, Job.Status.FAILED]).count()
                bar.update(finished - bar.n)
                if finished >= len(ids):
                    return
                time.sleep(1)
