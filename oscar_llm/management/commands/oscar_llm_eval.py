"""Evaluate the plugin's features on real data through the shop's own services.

    python manage.py oscar_llm_eval content --catalogue FILE.csv --model DIR --limit 300 --out results.jsonl
    python manage.py oscar_llm_eval content --kind description --catalogue FILE.csv --model DIR
    python manage.py oscar_llm_eval experiments --simulate 2000 --out results.jsonl --seed 0

Each subcommand prints a one-line summary and, as the last line of stdout, a
JSON summary. Subcommands are methods named ``handle_<what>`` with their
arguments added in ``add_<what>_arguments``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

KIND_PLURALS = {"title": "titles", "description": "descriptions", "meta_description": "meta descriptions"}


class Command(BaseCommand):
    help = "Evaluate generated content (and, later, recommendations) and support drafts on real data."

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="what", required=True)
        self.add_content_arguments(self.add_subcommand(subparsers, "content", "Product copy for catalogue rows."))
        self.add_support_arguments(
            self.add_subcommand(subparsers, "support", "Triage and reply drafts for Bitext-format support tickets.")
        )
        self.add_recommend_arguments(
            self.add_subcommand(subparsers, "recommend", "Next-item ranking on LLMRank-format TSV files.")
        )
        self.add_experiments_arguments(
            self.add_subcommand(subparsers, "experiments", "The experiment statistics on simulated traffic.")
        )
        self.add_qa_arguments(
            self.add_subcommand(subparsers, "qa", "Product questions: evidence ranking, answerability, answers.")
        )
        self.add_marketing_arguments(
            self.add_subcommand(subparsers, "marketing", "Campaign emails per segment for catalogue rows.")
        )

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
        parser.add_argument(
            "--kind",
            choices=list(KIND_PLURALS),
            default="title",
            help="Which text to write for each row (default: title).",
        )
        parser.add_argument("--limit", type=int, default=300, help="Evaluate the first N rows (default 300).")
        parser.add_argument("--out", help="Write one JSON object per product to this JSONL file.")
        parser.add_argument("--batch-size", type=int, default=16)
        parser.add_argument("--retry-candidates", type=int, default=3, help="Sampled candidates for failing texts.")

    def handle_content(self, options: dict[str, Any]) -> dict[str, Any]:
        from ...evaluation.content import evaluate_content
        from ...llm.base import ModelUnavailable

        try:
            generator = self.load_generator(options.get("model"))
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from exc
        summary = evaluate_content(
            options["catalogue"],
            generator,
            kind=options["kind"],
            limit=options["limit"],
            batch_size=options["batch_size"],
            out=options.get("out"),
            retry_candidates=options["retry_candidates"],
            progress=options["verbosity"] > 0,
        )
        self.stdout.write(
            f"content: {summary['accepted']}/{summary['generated']} {KIND_PLURALS[summary['kind']]} accepted "
            f"({summary['accepted_rate']:.1%}; {summary['accepted_from_model']} written by the model, "
            f"{summary['accepted_from_pattern']} by the facts' pattern), "
            f"{summary['accepted_contradictions']} accepted contradicting "
            f"gender/colour/article type, {summary['items_per_second']} items/s, model {summary['model']}"
        )
        return summary

    # -- marketing ------------------------------------------------------------------------------

    def add_marketing_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--catalogue", required=True, help="A fashion-format CSV (id, gender, ..., productDisplayName)."
        )
        parser.add_argument("--model", help="Model directory (default: the configured generator).")
        parser.add_argument("--limit", type=int, default=200, help="Evaluate the first N rows (default 200).")
        parser.add_argument("--out", help="Write one JSON object per email to this JSONL file.")
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument("--seed", type=int, default=0, help="Seeds the made-up offers.")

    def handle_marketing(self, options: dict[str, Any]) -> dict[str, Any]:
        from ...evaluation.marketing import evaluate_marketing
        from ...llm.base import ModelUnavailable

        try:
            generator = self.load_generator(options.get("model"))
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from exc
        try:
            summary = evaluate_marketing(
                options["catalogue"],
                generator,
                limit=options["limit"],
                out=options.get("out"),
                batch_size=options["batch_size"],
                seed=options["seed"],
                progress=options["verbosity"] > 0,
            )
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"marketing: {summary['accepted']}/{summary['generated']} emails accepted "
            f"({summary['accepted_rate']:.1%}; product name by the model in {summary['accepted_name_from_model']}), "
            f"{summary['accepted_with_terms_not_in_facts']} accepted stating terms not in the facts, "
            f"{summary['accepted_contradicting_row']} contradicting gender/colour/article type, "
            f"{summary['items_per_second']} emails/s, model {summary['model']}"
        )
        return summary

    # -- recommend ------------------------------------------------------------------------------

    def add_recommend_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--items", required=True, help="item_id<TAB>title TSV.")
        parser.add_argument("--histories", required=True, help="user_id<TAB>chronological item ids TSV.")
        parser.add_argument("--eval", required=True, help="user_id<TAB>target<TAB>20 candidate ids TSV.")
        parser.add_argument("--out", help="Write one JSON object per evaluation user to this JSONL file.")
        parser.add_argument("--limit", type=int, help="Evaluate only the first N evaluation users.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--time-budget",
            type=float,
            help="Seconds for embedding, statistics and the sequence model together (tuning comes after).",
        )
        parser.add_argument("--no-seq-model", action="store_true", help="Blend only (no learned model).")
        parser.add_argument("--save-engine", help="Save the fitted engine to this .npz file.")

    def handle_recommend(self, options: dict[str, Any]) -> dict[str, Any]:
        from ...evaluation.recommend import evaluate_recommendations
        from ...recommendations.engine import EngineConfig

        config = EngineConfig(seed=options["seed"], seq_model=not options["no_seq_model"])
        if options.get("time_budget") is not None:
            config.time_budget_s = options["time_budget"]
        try:
            summary = evaluate_recommendations(
                options["items"],
                options["histories"],
                options["eval"],
                out=options.get("out"),
                config=config,
                limit=options.get("limit"),
                progress=options["verbosity"] > 0,
                save_engine=options.get("save_engine"),
            )
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"recommend: {summary['users']} users, NDCG@10 {summary['ndcg@10']:.4f} "
            f"(popularity {summary['popularity_ndcg@10']:.4f}), Hit@1 {summary['hit@1']:.4f}, "
            f"full Recall@10 {summary['full_recall@10']:.4f}, fit {summary['fit_seconds']}s, "
            f"model {summary['model']}"
        )
        return summary

    # -- experiments ----------------------------------------------------------------------------

    def add_experiments_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--simulate", type=int, required=True, help="Number of simulated experiments per kind.")
        parser.add_argument("--out", help="Write one JSON object per run to this JSONL file.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--days", type=int, default=28, help="Horizon in days, one look per day (default 28).")
        parser.add_argument("--visitors-per-day", type=int, default=3000)

    def handle_experiments(self, options: dict[str, Any]) -> dict[str, Any]:
        from ...evaluation.experiments import SimulationConfig, simulate

        if options["simulate"] < 1 or options["days"] < 1 or options["visitors_per_day"] < 10:
            raise CommandError("--simulate and --days must be positive, --visitors-per-day at least 10.")
        config = SimulationConfig(
            runs=options["simulate"],
            days=options["days"],
            visitors_per_day=options["visitors_per_day"],
            seed=options["seed"],
        )
        try:
            summary = simulate(config, out=options.get("out"))
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"experiments: {summary['runs']} runs x {config.days} daily looks; A/A false positives "
            f"{summary['aa_false_positive_rate']:.1%} sequential vs {summary['naive_false_positive_rate']:.1%} "
            f"naive peeking; power at +10% {summary['power_10pct_lift']:.1%}; SRM 45/55 flagged "
            f"{summary['srm_detection_rate']:.1%} (false alarms {summary['srm_false_alarm_rate']:.1%}); "
            f"regret vs oracle: bandit {summary['bandit_regret_vs_oracle']:.2%}, fixed split "
            f"{summary['fixed_split_regret_vs_oracle']:.2%}; {summary['seconds']}s"
        )
        return summary

    # -- support --------------------------------------------------------------------------------

    def add_support_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--train", required=True, help="Bitext-format CSV the triage is fitted on.")
        parser.add_argument("--tickets", required=True, help="Bitext-format CSV of tickets to draft replies for.")
        parser.add_argument("--model", help="Model directory (default: the configured generator).")
        parser.add_argument("--out", help="Write one JSON object per ticket to this JSONL file.")
        parser.add_argument("--limit", type=int, default=0, help="Evaluate the first N tickets only (default: all).")
        parser.add_argument("--batch-size", type=int, default=16)

    def handle_support(self, options: dict[str, Any]) -> dict[str, Any]:
        from ...evaluation.support import evaluate_support
        from ...llm.base import ModelUnavailable
        from ...llm.registry import get_embedder
        from ...settings import llm_settings
        from ...support.setup import extra_intents

        try:
            generator = self.load_generator(options.get("model"))
            embedder = get_embedder()
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from exc
        support = llm_settings.SUPPORT
        try:
            summary = evaluate_support(
                options["train"],
                options["tickets"],
                generator,
                embedder,
                out=options.get("out"),
                limit=options["limit"],
                batch_size=options["batch_size"],
                extra_intents=extra_intents(),
                drafter_options={
                    "shop_name": support.get("SHOP_NAME") or "",
                    "articles_k": support["ARTICLES_K"],
                    "min_confidence": support["MIN_CONFIDENCE"],
                    "max_new_tokens": support["MAX_NEW_TOKENS"],
                    "retry_candidates": support["RETRY_CANDIDATES"],
                    "batch_size": options["batch_size"],
                },
                progress=options["verbosity"] > 0,
            )
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"support: intent accuracy {summary['intent_accuracy']:.2%} on {summary['tickets']} tickets; "
            f"{summary['drafts_accepted']} drafts accepted ({summary['drafts_accepted_rate']:.1%}), "
            f"{summary['needs_human']} need a human; drafts vs reference replies: mean similarity "
            f"{summary['reference_similarity']}; {summary['from_library']} adapted from the library of "
            f"{summary['library_replies']}; knowledge base: {summary['knowledge_base']}; "
            f"model {summary['model']}"
        )
        return summary

    # -- qa -------------------------------------------------------------------------------------

    def add_qa_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--train", help="Labelled file of the same format the ranker is fitted on.")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--epqa", help="ePQA-format CSV (qid, question, ASIN, candidate, source, qa_pair_id, ...).")
        target.add_argument("--semipqa", help="semiPQA-format TSV (qid, qa_pair_id, question, candidate, label).")
        target.add_argument(
            "--answers",
            help="hetPQA-format TSV (question, candidate, answer): ROUGE-L of the written answers, quoting the "
            "evidence and (with --model) the model.",
        )
        parser.add_argument("--limit", type=int, default=0, help="With --answers: the first N rows only.")
        parser.add_argument("--out", help="Write one JSON object per question to this JSONL file.")
        parser.add_argument("--model", help="Answer writer model directory (default: quote the evidence).")
        parser.add_argument(
            "--folds",
            type=int,
            default=0,
            help="Measure on held-out questions of the evaluated file: K folds by qid, each ranked by a ranker "
            "fitted on the other folds (TRAIN is not read).",
        )
        parser.add_argument(
            "--no-tuned-encoder",
            action="store_true",
            help="With --epqa: rank without MiniLM fine-tuned on TRAIN (faster, lower P@1).",
        )

    def handle_qa(self, options: dict[str, Any]) -> dict[str, Any]:
        from ...evaluation.qa import evaluate_qa
        from ...llm.base import ModelUnavailable
        from ...llm.registry import get_embedder
        from ...qa.answers import ModelWriter

        if options.get("answers"):
            return self._qa_answers(options)
        fmt = "epqa" if options.get("epqa") else "semipqa"
        if not options.get("train") and not options.get("folds"):
            raise CommandError("--train FILE is required (or --folds K to measure on held-out folds).")
        try:
            embedder = get_embedder()
            writer = ModelWriter(self.load_generator(options["model"])) if options.get("model") else None
            tuned = None
            if fmt == "epqa" and not options.get("no_tuned_encoder"):
                from ...qa.training import tuned_encoder_factory

                tuned = tuned_encoder_factory()
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from exc
        try:
            summary = evaluate_qa(
                options.get("train"),
                options[fmt],
                embedder,
                fmt=fmt,
                writer=writer,
                out=options.get("out"),
                folds=options["folds"],
                progress=options["verbosity"] > 0,
                tuned_encoder=tuned,
            )
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(str(exc)) from exc
        line = (
            f"qa {fmt}: {summary['questions']} questions, P@1 {summary['p_at_1']:.4f} "
            f"(cosine {summary['cosine_p_at_1']:.4f})"
        )
        if fmt == "epqa":
            line += (
                f", answer precision {summary['answer_precision']:.4f} at coverage {summary['coverage']:.4f}, "
                f"writer {summary['writer']}"
            )
        self.stdout.write(line + f", {summary['questions_per_second']} questions/s")
        return summary

    def _qa_answers(self, options: dict[str, Any]) -> dict[str, Any]:
        from ...evaluation.qa import evaluate_answers
        from ...llm.base import ModelUnavailable
        from ...qa.answers import ModelWriter, QuoteWriter

        writers: list[Any] = [QuoteWriter()]
        if options.get("model"):
            try:
                writers.append(ModelWriter(self.load_generator(options["model"])))
            except ModelUnavailable as exc:
                raise CommandError(str(exc)) from exc
        try:
            summary = evaluate_answers(options["answers"], writers, out=options.get("out"), limit=options["limit"])
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        parts = [
            f"{name} ROUGE-L {w['rouge_l']:.4f} ({w['answers_with_unknown_numbers']} with an unknown number)"
            for name, w in summary["writers"].items()
        ]
        self.stdout.write(
            f"qa answers: {summary['rows']} rows; " + "; ".join(parts) + f"; reads best: {summary['reads_best']}"
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
