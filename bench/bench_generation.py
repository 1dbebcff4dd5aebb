"""Products per second: the shop's batched pipeline vs the classic one-product-at-a-time recipe.

    .venv/bin/python bench/bench_generation.py --model var/fashion_model --n 300 --batch-sizes 32,128,512

Both run in one process on the same model and the same N catalogue rows:

- batched: ``content.generation.generate_checked`` (greedy, batches of --batch-size,
  checks, sampled retries for failures), the path the shop's workers run (the compact decoder of
  ``llm.decoding``, its matrix products in ``--matmul-dtype``: "auto" as the shop's default);
- classic: ``model.generate`` per product with ``num_beams=4, num_return_sequences=3``,
  keeping the best-scoring sequence, no checks.

Paired rounds (``--rounds``): the classic recipe on a slice of the products, then the pipeline on
all of them at every batch size, alternating which side goes first; the printed ratios are the
medians of the per-round ratios. With --n 300 the products are the 300 rows ``oscar_llm_train
--holdout 300`` held out. Acceptance is reported per batch size, with how many of the accepted
texts the model wrote (the rest are the facts' pattern).

Prints a few lines and, last, a JSON line with both rates and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("OSCAR_LLM_DATA", ROOT.parent / "shared" / "data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(ROOT / "var" / "fashion_model"))
    parser.add_argument("--catalogue", default=str(DEFAULT_DATA / "catalogue" / "fashion_styles_public.csv"))
    parser.add_argument("--n", type=int, default=480, help="Products (the first N rows of the catalogue).")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--batch-sizes", default="32,128,512", help="Also measure the pipeline at these sizes.")
    parser.add_argument("--rounds", type=int, default=2, help="Paired rounds (classic slice, then the pipeline).")
    parser.add_argument("--dtype", help="Load the model in this dtype (e.g. bfloat16) for both recipes.")
    parser.add_argument(
        "--matmul-dtype",
        default="auto",
        help="The pipeline's GENERATION['matmul_dtype'] (auto, float32, bfloat16); the classic runs model.generate.",
    )
    parser.add_argument("--retry-candidates", type=int, default=3, help="Sampled candidates for failing texts.")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import django

    django.setup()
    import torch

    from oscar_llm.catalogue import Vocabulary, facts_from_fashion_row
    from oscar_llm.content.checks import Limits, check_text
    from oscar_llm.content.generation import generate_checked
    from oscar_llm.content.prompts import PromptContext, build_request
    from oscar_llm.content.training_data import read_fashion_csv
    from oscar_llm.llm.base import GenerationOptions
    from oscar_llm.llm.transformers_backend import TransformersGenerator

    rows = read_fashion_csv(args.catalogue)
    all_facts = [facts_from_fashion_row(r) for r in rows]
    vocabulary = Vocabulary.from_facts(all_facts)
    facts = all_facts[: args.n]
    ctx = PromptContext(kind="title", max_length=90)
    limits = Limits(max_length=90)
    generator = TransformersGenerator(args.model, dtype=args.dtype, matmul_dtype=args.matmul_dtype)
    tokenizer, model = generator.tokenizer, generator.model
    max_new_tokens = 32
    print(
        f"model {generator.model_id}, {len(facts)} products, torch threads {torch.get_num_threads()}, "
        f"pipeline decoding: {generator.decoding}"
    )

    # -- batched pipeline (what the shop runs) ------------------------------------------------
    sizes = sorted({args.batch_size, *(int(b) for b in args.batch_sizes.split(",") if b.strip())})
    items = [(f, ctx) for f in facts]

    def batched(batch_size: int, retry_candidates: int) -> dict:
        options = GenerationOptions(do_sample=False, batch_size=batch_size)
        started = time.perf_counter()
        outcomes = generate_checked(generator, items, vocabulary, limits, options, retry_candidates=retry_candidates)
        seconds = time.perf_counter() - started
        tokens = sum(len(ids) for ids in tokenizer([o.text for o in outcomes])["input_ids"])
        return {
            "seconds": seconds,
            "accepted": sum(o.accepted for o in outcomes),
            "by_model": sum(o.accepted and o.source == "model" for o in outcomes),
            "tokens": tokens,
        }

    # -- classic recipe: one product at a time, beam search ------------------------------------
    def classic(f: dict) -> str:
        request = build_request(f, ctx, max_new_tokens)
        encoded = tokenizer(generator.render(request), return_tensors="pt")
        with torch.inference_mode():
            out = model.generate(
                **encoded,
                max_new_tokens=max_new_tokens,
                num_beams=4,
                num_return_sequences=3,
                do_sample=False,
                early_stopping=True,
                output_scores=True,
                return_dict_in_generate=True,
                pad_token_id=tokenizer.pad_token_id,
            )
        best = int(torch.argmax(out.sequences_scores))
        new = out.sequences[best, encoded["input_ids"].shape[1] :]
        return tokenizer.decode(new, skip_special_tokens=True).strip()

    generate_checked(generator, items[: min(sizes)], vocabulary, limits, GenerationOptions(batch_size=min(sizes)))
    classic(facts[0])  # warm-up
    # Paired rounds: the classic recipe on a slice of the products, then the pipeline at each batch
    # size on all of them (alternating which goes first), so a machine whose load drifts skews
    # both sides alike; the ratio of each round is taken, then their median.
    per_round = max(1, len(facts) // args.rounds)
    classic_texts: list[str] = []
    classic_seconds: list[float] = []
    runs: dict[int, list[dict]] = {b: [] for b in sizes}
    greedy_runs: list[dict] = []
    for n_round in range(args.rounds):
        chunk = facts[n_round * per_round : (n_round + 1) * per_round]

        def run_classic(chunk: list[dict] = chunk) -> None:
            started = time.perf_counter()
            classic_texts.extend(classic(f) for f in chunk)
            classic_seconds.append((time.perf_counter() - started) / len(chunk))

        def run_batched() -> None:
            for b in sizes:
                runs[b].append(batched(b, args.retry_candidates))
            greedy_runs.append(batched(args.batch_size, 0))

        for step in (run_classic, run_batched) if n_round % 2 == 0 else (run_batched, run_classic):
            step()

    classic_facts = facts[: len(classic_texts)]
    classic_accepted = sum(
        not check_text(t, facts=f, kind="title", vocabulary=vocabulary, limits=limits)[1]
        for t, f in zip(classic_texts, classic_facts, strict=True)
    )
    classic_rates = [1 / s for s in classic_seconds]
    classic_rate = statistics.median(classic_rates)
    by_size = {}
    for b in sizes:
        rates = [len(facts) / r["seconds"] for r in runs[b]]
        ratios = [rate / c for rate, c in zip(rates, classic_rates, strict=True)]
        last = runs[b][-1]
        by_size[b] = {
            "products_per_second": round(statistics.median(rates), 2),
            "tokens_per_second": round(statistics.median([r["tokens"] / r["seconds"] for r in runs[b]]), 1),
            "ratio": round(statistics.median(ratios), 2),
            "accepted": last["accepted"],
            "written_by_model": last["by_model"],
        }
        print(
            f"batched (generate_checked, greedy, batch {b}, {args.retry_candidates} sampled retries): "
            f"{by_size[b]['products_per_second']:.1f} products/s, {by_size[b]['tokens_per_second']:.0f} tokens/s, "
            f"{last['accepted']}/{len(facts)} accepted ({last['by_model']} written by the model), "
            f"{by_size[b]['ratio']:.1f}x the classic recipe"
        )
    greedy_rate = statistics.median([len(facts) / r["seconds"] for r in greedy_runs])
    greedy = greedy_runs[-1]
    print(
        f"batched without retries (greedy + checks, batch {args.batch_size}): {greedy_rate:.1f} products/s, "
        f"{greedy['accepted']}/{len(facts)} accepted ({greedy['by_model']} written by the model)"
    )
    print(
        f"classic (per product, num_beams=4, num_return_sequences=3): {classic_rate:.2f} products/s, "
        f"{classic_accepted}/{len(classic_texts)} would pass the checks"
    )
    main_size = by_size[args.batch_size]
    print(f"ratio: {main_size['ratio']:.1f}x (without retries: {greedy_rate / classic_rate:.1f}x)")
    summary = {
        "model": generator.model_id,
        "products": len(facts),
        "batch_size": args.batch_size,
        "batched_products_per_second": main_size["products_per_second"],
        "classic_products_per_second": round(classic_rate, 3),
        "ratio": main_size["ratio"],
        "batched_accepted": main_size["accepted"],
        "batched_written_by_model": main_size["written_by_model"],
        "by_batch_size": by_size,
        "greedy_only_products_per_second": round(greedy_rate, 2),
        "greedy_only_ratio": round(greedy_rate / classic_rate, 2),
        "greedy_only_accepted": greedy["accepted"],
        "classic_passing_checks": classic_accepted,
        "classic_products": len(classic_texts),
        "rounds": args.rounds,
        "torch_threads": torch.get_num_threads(),
        "dtype": str(model.dtype).replace("torch.", ""),
        "decoding": generator.decoding,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
