"""Evaluate the plugin's features on real data through the shop's own services.

    python manage.py oscar_llm_eval content --catalogue FILE.csv --model DIR --limit 300 --out results.jsonl

Each subcommand prints a one-line summary and, as the last line of stdout, a
JSON summary. Subcommands are methods named ``handle_<what>`` with their
arguments added in ``add_<what>_arguments``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Evaluate generated content (and, later, recommendations and support drafts) on real data."

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="what", required=True)
        self.add_content_arguments(self.add_subcommand(subparsers, "content", "Product titles for catalogue rows."))

    def add_subcommand(self, subparsers: Any, name: str, help: str) -> CommandParser:
        sub = subparsers.add_parser(name, help=help)
        # Accept -v after the subcommand too (argparse only knows it before).
        sub.add_argument("-v", "--verbosity", type=int, choices=[0, 1, 2, 3], default=argparse.SUPPRESS)
        return sub

    # -- content --------------------------------------------------------------------------------

    def add_content_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--catalogue", required=True, help="A fashion-format CSV (id, gender, ..., productDisplayName)."
        )
        parser.add_argument("--model", help="Model directory (default: the configured generator).")
        parser.add_argument("--limit", type=int, default=300, help="Evaluate the first N rows (default 300).")
        parser.add_argument("--out", help="Write one JSON object per product to this JSONL file.")
        parser.add_argument("--batch-size", type=int, default=16)
        parser.add_argument("--retry-candidates", type=int, default=3, help="Sampled candidates for failing texts.")

    def handle_content(self, options: dict[str, Any]) -> dict[str, Any]:
        from ...evaluation.content import evaluate_titles
        from ...llm.base import ModelUnavailable

        try:
            generator = self.load_generator(options.get("model"))
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from exc
        summary = evaluate_titles(
            options["catalogue"],
            generator,
            limit=options["limit"],
            batch_size=options["batch_size"],
            out=options.get("out"),
            retry_candidates=options["retry_candidates"],
            progress=options["verbosity"] > 0,
        )
        self.stdout.write(
            f"content: {summary['accepted']}/{summary['generated']} titles accepted "
            f"({summary['accepted_rate']:.1%}), {summary['accepted_contradictions']} accepted contradicting "
            f"gender/colour/article type, {summary['items_per_second']} items/s, model {summary['model']}"
        )
        return summary

    # -- shared ---------------------------------------------------------------------------------

    def load_generator(self, model: str | None) -> Any:
        """``--model DIR`` builds the in-process generator for that directory; else the configured one."""
        if model:
            from ...llm.transformers_backend import TransformersGenerator

            return TransformersGenerator(model)
        from ...llm.registry import get_generator

        return get_generator()

    def handle(self, *args: Any, **options: Any) -> None:
        what = options["what"]
        handler = getattr(self, f"handle_{what}", None)
        if handler is None:
            raise CommandError(f"Unknown evaluation {what!r}.")
        summary = handler(options)
        self.stdout.write(json.dumps(summary, ensure_ascii=False, default=str))
