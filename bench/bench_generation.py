"""Products per second: the shop's batched pipeline vs the classic one-product-at-a-time recipe.

    .venv/bin/python bench/bench_generation.py --model var/fashion_model --n 96

Both run in one process on the same model and the same N catalogue rows:

- batched: ``content.generation.generate_checked`` (greedy, batches of --batch-size,
  checks, sampled retries for failures), the path the shop's workers run;
- classic: ``model.generate`` per product with ``num_beams=4, num_return_sequences=3``,
  keeping the best-scoring sequence, no checks.

Prints a few lines and, last, a JSON line with both rates and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
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
    parser.add_argument("--dtype", help="Load the model in this dtype (e.g. bfloat16) for both recipes.")
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
    generator = TransformersGenerator(args.model, dtype=args.dtype)
    tokenizer, model = generator.tokenizer, generator.model
    max_new_tokens = 32
    print(f"model {generator.model_id}, {len(facts)} products, torch threads {torch.get_num_threads()}")

    # -- batched pipeline (what the shop runs) ------------------------------------------------
    options = GenerationOptions(do_sample=False, batch_size=args.batch_size)
    items = [(f, ctx) for f in facts]
    generate_checked(generator, items[: args.batch_size], vocabulary, limits, options)  # warm-up

    def batched(retry_candidates: int) -> tuple[float, int]:
        started = time.perf_counter()
        outcomes = generate_checked(generator, items, vocabulary, limits, options, retry_candidates=retry_candidates)
        return time.perf_counter() - started, sum(o.accepted for o in outcomes)

    # The full pipeline: greedy, checks, and sampled candidates for the texts that fail.
    batched_seconds, batched_accepted = batched(args.retry_candidates)
    # The same without the sampled retries: one greedy text per product, checked.
    greedy_seconds, greedy_accepted = batched(0)

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

    classic(facts[0])  # warm-up
    started = time.perf_counter()
    classic_texts = [classic(f) for f in facts]
    classic_seconds = time.perf_counter() - started
    classic_accepted = sum(
        not check_text(t, facts=f, kind="title", vocabulary=vocabulary, limits=limits)[1]
        for t, f in zip(classic_texts, facts, strict=True)
    )

    batched_rate = len(facts) / batched_seconds
    greedy_rate = len(facts) / greedy_seconds
    classic_rate = len(facts) / classic_seconds
    ratio = batched_rate / classic_rate
    print(
        f"batched (generate_checked, greedy, batch {args.batch_size}, {args.retry_candidates} sampled retries): "
        f"{batched_rate:.1f} products/s, {batched_accepted}/{len(facts)} accepted"
    )
    print(
        f"batched without retries (greedy + checks): {greedy_rate:.1f} products/s, "
        f"{greedy_accepted}/{len(facts)} accepted"
    )
    print(
        f"classic (per product, num_beams=4, num_return_sequences=3): {classic_rate:.2f} products/s, "
        f"{classic_accepted}/{len(facts)} would pass the checks"
    )
    print(f"ratio: {ratio:.1f}x (without retries: {greedy_rate / classic_rate:.1f}x)")
    summary = {
        "model": generator.model_id,
        "products": len(facts),
        "batch_size": args.batch_size,
        "batched_products_per_second": round(batched_rate, 2),
        "classic_products_per_second": round(classic_rate, 3),
        "ratio": round(ratio, 2),
        "batched_accepted": batched_accepted,
        "greedy_only_products_per_second": round(greedy_rate, 2),
        "greedy_only_ratio": round(greedy_rate / classic_rate, 2),
        "greedy_only_accepted": greedy_accepted,
        "classic_passing_checks": classic_accepted,
        "torch_threads": torch.get_num_threads(),
        "dtype": str(model.dtype).replace("torch.", ""),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
