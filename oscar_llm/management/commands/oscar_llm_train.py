"""Train the shop's language model on its catalogue (or a catalogue CSV), within a time budget.

python manage.py oscar_llm_train --catalogue FILE.csv --holdout 300 --out var/shop_model --minutes 10 --json
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Train (or fine-tune) the text model the shop generates product copy with."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--catalogue", help="A fashion-format CSV to train on (default: the shop's products).")
        parser.add_argument(
            "--holdout", type=int, default=0, help="Skip the first N CSV rows, keeping them for evaluation."
        )
        parser.add_argument("--out", help="Output directory (default: OSCAR_LLM['MODEL_DIR']).")
        parser.add_argument("--minutes", type=float, default=5.0, help="Training time budget (default 5).")
        parser.add_argument("--base", help="Local directory of a pretrained causal LM to fine-tune.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--size", default="small", help="Model size when training from scratch: tiny, small, medium."
        )
        parser.add_argument("--batch-size", type=int, default=16)
        parser.add_argument(
            "--support",
            metavar="CSV",
            action="append",
            default=[],
            help="A Bitext-format ticket CSV: adds support reply pairs and fits the ticket triage next to the model. "
            "Give it more than once to train on several files together (the demo's seed tickets and a public set).",
        )
        parser.add_argument(
            "--support-from-shop",
            action="store_true",
            help="Add the support replies staff approved or edited in this shop as training pairs.",
        )
        parser.add_argument(
            "--triage-only",
            action="store_true",
            help="With --support: fit and save only the ticket triage (for a shop whose text model is pretrained "
            "or served elsewhere).",
        )
        parser.add_argument(
            "--qa",
            help="A hetPQA-format TSV (question, candidate, answer): adds product-question answer pairs.",
        )
        parser.add_argument(
            "--qa-ranker",
            help="An ePQA-format CSV: fit only the product-question evidence ranker and save it "
            "(OSCAR_LLM['QA']['RANKER_DIR'], default next to the shop model).",
        )
        parser.add_argument("--json", action="store_true", help="Print a JSON summary as the last line.")

    def handle(self, *args: Any, **options: Any) -> None:
        from ...content.training_data import pairs_from_catalogue_csv, pairs_from_database
        from ...llm.base import ModelUnavailable
        from ...llm.training import SIZES, train_causal_lm
        from ...settings import llm_settings

        if options["size"] not in SIZES:
            raise CommandError(f"--size must be one of {', '.join(SIZES)}.")
        if options["triage_only"]:
            self._triage_only(options)
            return
        if options["qa_ranker"]:
            self._qa_ranker(options)
            return
        if options["catalogue"]:
            data = pairs_from_catalogue_csv(options["catalogue"], skip_first=options["holdout"], seed=options["seed"])
        else:
            data = pairs_from_database(seed=options["seed"])
        pairs = list(data.pairs)
        support: dict[str, Any] = {}
        shop_summary: dict[str, Any] | None = None
        if options["support"]:
            from ...support.setup import support_training

            try:
                support = support_training(options["support"], progress=options["verbosity"] > 0)
            except (OSError, ValueError) as exc:
                raise CommandError(str(exc)) from exc
            pairs += support.pop("pairs")
        qa_summary: dict[str, Any] | None = None
        if options["qa"]:
            from ...qa.training import qa_pairs

            try:
                more, qa_summary = qa_pairs(options["qa"])
            except (OSError, ValueError) as exc:
                raise CommandError(str(exc)) from exc
            pairs += more
        if options["support_from_shop"]:
            from ...support.learning import shop_support_pairs

            shop = shop_support_pairs()
            pairs += shop.pairs
            shop_summary = shop.summary()
        if not pairs:
            raise CommandError("No training pairs: the catalogue has no texts that pass the checks.")
        out = options["out"] or llm_settings.MODEL_DIR
        try:
            result = train_causal_lm(
                pairs,
                out,
                minutes=options["minutes"],
                base=options["base"],
                seed=options["seed"],
                size=options["size"],
                batch_size=options["batch_size"],
                progress=options["verbosity"] > 0,
            )
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from exc
        summary = {**result, "data": data.summary()}
        if shop_summary is not None:
            summary["support_from_shop"] = shop_summary
        if qa_summary is not None:
            summary["qa"] = qa_summary
        if support:
            from ...support.triage import triage_dir_for

            support["triage_dir"] = str(support.pop("classifier").save(triage_dir_for(out)).parent)
            summary["support"] = support
        self.stdout.write(
            f"Trained {result['steps']} steps ({result['epochs']} epochs) on {len(pairs)} pairs "
            f"({data.dropped + support.get('support_dropped', 0)} targets dropped by the checks) "
            f"in {result['train_seconds']:.0f}s; "
            f"loss {result['final_loss']}; saved to {out}"
            + (
                f"; triage of {support['triage']['intents']} intents saved to {support['triage_dir']}"
                if support
                else ""
            )
        )
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, default=str))

    def _qa_ranker(self, options: dict[str, Any]) -> None:
        from ...llm.base import ModelUnavailable
        from ...llm.registry import get_embedder
        from ...qa.services import ranker_dir
        from ...qa.training import fit_ranker

        try:
            summary = fit_ranker(options["qa_ranker"], get_embedder(), options["out"] or ranker_dir())
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from exc
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Question ranker fitted on {summary['questions']} questions, saved to {summary['ranker_dir']} "
            f"(answers when the best evidence scores {summary['threshold']} or more: held-out precision "
            f"{summary['held_out_precision']}, coverage {summary['held_out_coverage']})"
        )
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, default=str))

    def _triage_only(self, options: dict[str, Any]) -> None:
        from ...support.setup import support_training
        from ...support.triage import default_triage_dir, triage_dir_for

        if not options["support"]:
            raise CommandError("--triage-only needs --support CSV.")
        try:
            support = support_training(options["support"], progress=options["verbosity"] > 0, with_pairs=False)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        target = triage_dir_for(options["out"]) if options["out"] else default_triage_dir()
        saved = support.pop("classifier").save(target).parent
        self.stdout.write(
            f"Triage of {support['triage']['intents']} intents, fitted on {support['triage']['examples']} tickets "
            f"from {', '.join(support['support_files'])}, saved to {saved}"
        )
        if options["json"]:
            self.stdout.write(json.dumps({"triage_dir": str(saved), **support}, ensure_ascii=False, default=str))
