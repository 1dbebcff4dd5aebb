"""Train the shop's own causal LM (or fine-tune a local pretrained one) within a time budget.

Runs in a worker or a management command, never in a web process. The trained
directory loads with ``AutoModelForCausalLM.from_pretrained`` and
``AutoTokenizer.from_pretrained``, so :class:`~oscar_llm.llm.transformers_backend.TransformersGenerator`
serves it like any other Hugging Face model.

Training pairs are ``(prompt, completion)`` strings from
:func:`oscar_llm.content.prompts.training_pair`: the prompt is tokenised on its
own, exactly as at generation time, and the loss is computed on the completion
tokens and the closing EOS only.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Sleeping, not spinning, OpenMP threads: on a shared machine spinning threads
# make a step several times slower (only takes effect before torch loads).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

TRAINING_METADATA = "oscar_llm_training.json"
EOS_TOKEN = "<|endoftext|>"
IGNORE_INDEX = -100

# Model sizes for training from scratch, with the peak learning rate each trains
# well at. "small" is the shop's default: on two CPU cores it makes about 500
# optimiser steps (batch 16) a minute and learns to copy facts into titles within
# minutes; wider models learn less per minute of CPU at this scale.
SIZES: dict[str, dict[str, int]] = {
    "tiny": {"n_layer": 2, "n_embd": 64, "n_head": 2, "n_positions": 512},
    "small": {"n_layer": 4, "n_embd": 192, "n_head": 4, "n_positions": 512},
    "medium": {"n_layer": 6, "n_embd": 256, "n_head": 4, "n_positions": 512},
}
LEARNING_RATES = {"tiny": 3e-3, "small": 2e-3, "medium": 1e-3}

# How text is cut into pieces before BPE. On top of GPT-2's word pattern, the
# prompt's segment tag ("[title|en|default]"), its keys ("; colour=") and its
# arrow (" =>") are single pieces, so BPE learns each as one token: prompts
# shrink to about half the tokens, halving the cost of training and of the
# prefill at generation time. A space is put after "=" (normaliser), so a value
# in the prompt ("brand=Puma") is the same token as the word in a title
# (" Puma"): copying a fact is then a matter of repeating a token.
_GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_PIECES_PATTERN = r"\[[^\]\s]*\]|(?:;\s*|\s)?[a-z_]+=(?!>)|\s*=>|" + _GPT2_PATTERN


def train_tokenizer(texts: Sequence[str], vocab_size: int = 6000, min_frequency: int = 2) -> Any:
    """A byte-level BPE tokenizer trained on ``texts``, wrapped as ``PreTrainedTokenizerFast``."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.Replace(Regex(r"=(?![\s>])"), "= ")
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_PIECES_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer, length=len(texts))
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=EOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=EOS_TOKEN,
        unk_token=None,
        clean_up_tokenization_spaces=False,
    )
    wrapped.padding_side = "left"  # what generation wants; training pads by hand
    return wrapped


def encode_pairs(
    tokenizer: Any, pairs: Sequence[tuple[str, str]], max_length: int
) -> list[tuple[list[int], list[int]]]:
    """(input_ids, labels) per pair: prompt tokens masked with -100, completion + EOS learned.

    The prompt is encoded on its own, as generation will encode it; pairs whose
    prompt leaves no room for the completion are skipped.
    """
    eos = tokenizer.eos_token_id
    prompts = tokenizer([p for p, _ in pairs], add_special_tokens=False)["input_ids"]
    completions = tokenizer([c for _, c in pairs], add_special_tokens=False)["input_ids"]
    examples = []
    for prompt_ids, completion_ids in zip(prompts, completions, strict=True):
        completion_ids = [*completion_ids, eos]
        room = max_length - len(prompt_ids)
        if room < 2 or not completion_ids:
            continue
        completion_ids = completion_ids[:room]
        examples.append(([*prompt_ids, *completion_ids], [IGNORE_INDEX] * len(prompt_ids) + completion_ids))
    return examples


def length_bucketed_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Batches of similar length (little padding), in random order.

    Indices are shuffled, then sorted by length within windows of 50 batches,
    so batches differ from one epoch to the next.
    """
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 50
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(examples: Sequence[tuple[list[int], list[int]]], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(ids) for ids, _ in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    for row, (ids, labs) in enumerate(examples):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, : len(labs)] = torch.tensor(labs)
        attention[row, : len(ids)] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}


def _lr_factor(step: int, warmup_steps: int, progress: float, floor: float = 0.1) -> float:
    """Linear warmup over steps, then cosine decay over ``progress``: the fraction of the run done."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(max(progress, 0.0), 1.0)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def completion_loss(model: Any, batch: dict[str, Any]) -> Any:
    """Cross-entropy on the completion tokens only.

    For the GPT-2 models trained here, the output layer is applied only at the
    positions that predict a completion token: most of a sequence is prompt,
    so this halves the cost of a step. Other models use their own loss.
    """
    import torch
    from transformers import GPT2LMHeadModel

    if not isinstance(model, GPT2LMHeadModel):
        return model(**batch).loss
    hidden = model.transformer(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    targets = batch["labels"][:, 1:]
    selected = targets != IGNORE_INDEX
    logits = model.lm_head(hidden[:, :-1][selected])
    return torch.nn.functional.cross_entropy(logits.float(), targets[selected])


def _build_scratch_model(tokenizer: Any, size: str | dict[str, int], seed: int) -> Any:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    dims = dict(SIZES[size]) if isinstance(size, str) else dict(size)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        # GPT-2's tanh GELU as one fused op (same function, faster than "gelu_new").
        activation_function="gelu_pytorch_tanh",
        # A few epochs at most in a time budget: dropout only slows learning down.
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        **dims,
    )
    torch.manual_seed(seed)
    return GPT2LMHeadModel(config)


def _load_base(base: str) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    local = Path(base).expanduser()
    if not local.is_dir():
        from .base import ModelUnavailable

        raise ModelUnavailable(f"Base model directory {base} does not exist (model hubs are not reachable).")
    tokenizer = AutoTokenizer.from_pretrained(str(local), local_files_only=True)
    # Safetensors only (a .bin checkpoint is a pickle); training saves safetensors too.
    model = AutoModelForCausalLM.from_pretrained(str(local), local_files_only=True, use_safetensors=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # The model is trained on the plain prompt form; drop any chat template so
    # the generator feeds it that form too.
    tokenizer.chat_template = None
    tokenizer.padding_side = "left"
    return tokenizer, model


def _save(model: Any, tokenizer: Any, out_dir: Path, metadata: dict[str, Any]) -> None:
    """Write into a sibling temp dir, then swap it in, so a worker never loads half a model."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.generation_config.eos_token_id = tokenizer.eos_token_id
        model.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        (tmp / TRAINING_METADATA).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
        old = out_dir.with_name(out_dir.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        if out_dir.exists():
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old.exists():
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def train_causal_lm(
    pairs: Sequence[tuple[str, str]],
    out_dir: str | os.PathLike[str],
    *,
    minutes: float,
    base: str | None = None,
    seed: int = 0,
    progress: bool = True,
    size: str | dict[str, int] = "small",
    vocab_size: int = 6000,
    batch_size: int = 16,
    learning_rate: float | None = None,
    weight_decay: float = 0.01,
    warmup_fraction: float = 0.03,
    max_steps: int | None = None,
    num_threads: int | None = None,
) -> dict[str, Any]:
    """Train on ``pairs`` for ``minutes`` of wall-clock time and save to ``out_dir``.

    Without ``base`` a byte-level BPE tokenizer and a GPT-2 shaped model of
    ``size`` (a name from :data:`SIZES` or a dict of GPT2Config dimensions) are
    built from scratch; with ``base`` (a local directory) that model is
    fine-tuned. Returns the metadata also written to ``oscar_llm_training.json``.
    """
    import torch
    from tqdm.auto import tqdm

    if not pairs:
        raise ValueError("No training pairs.")
    started = time.monotonic()
    budget = max(float(minutes), 0.0) * 60.0
    threads = num_threads or _default_threads()
    torch.set_num_threads(threads)
    random.seed(seed)
    torch.manual_seed(seed)
    rng = random.Random(seed)

    if base:
        tokenizer, model = _load_base(base)
        max_length = min(int(getattr(model.config, "n_positions", 0) or 0) or 512, 512)
        lr = learning_rate or 5e-5
    else:
        texts = [p for p, _ in pairs] + [c for _, c in pairs]
        tokenizer = train_tokenizer(texts, vocab_size=vocab_size)
        model = _build_scratch_model(tokenizer, size, seed)
        max_length = model.config.n_positions
        lr = learning_rate or (LEARNING_RATES.get(size, 1e-3) if isinstance(size, str) else 1e-3)
    tokenizer.model_max_length = max_length
    examples = encode_pairs(tokenizer, pairs, max_length)
    if not examples:
        raise ValueError("No training pair fits in the model's context.")
    lengths = [len(ids) for ids, _ in examples]

    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.ndim < 2 or "ln_" in name or "norm" in name else decay).append(param)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr,
        betas=(0.9, 0.98),
        eps=1e-8,
    )
    model.train()

    step = 0
    epoch = 0
    seen = 0
    loss_ema: float | None = None
    recent: list[float] = []
    warmup_steps = 10
    estimated_total: int | None = None
    timing_steps = 5
    train_started = time.monotonic()
    bar = tqdm(total=None, disable=not progress, unit="step", desc="training", dynamic_ncols=True)
    done = False
    while not done:
        epoch += 1
        for batch_indices in length_bucketed_batches(lengths, batch_size, rng):
            elapsed = time.monotonic() - train_started
            if (max_steps is not None and step >= max_steps) or (step > 0 and elapsed >= budget):
                done = True
                break
            batch = collate([examples[i] for i in batch_indices], tokenizer.pad_token_id)
            progress = elapsed / budget if budget else 1.0
            if max_steps:
                # Whichever ends the run first sets the schedule: with a step cap that binds, the
                # model is the same on a busy machine as on an idle one.
                progress = max(progress, step / max_steps)
            factor = _lr_factor(step, warmup_steps, progress)
            for group in optimizer.param_groups:
                group["lr"] = lr * factor
            loss = completion_loss(model, batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            seen += len(batch_indices)
            value = float(loss.detach())
            loss_ema = value if loss_ema is None else 0.95 * loss_ema + 0.05 * value
            recent = [*recent[-99:], value]
            if num_threads is None and step % 100 == 0:
                # Other work on the machine comes and goes: follow it.
                threads = _default_threads(own_threads=torch.get_num_threads())
                torch.set_num_threads(threads)
            if step == timing_steps:
                # Now the time per step is known: size warmup and the bar to the budget.
                per_step = (time.monotonic() - train_started) / step
                estimated_total = max(step, int(budget / per_step)) if budget else step
                if max_steps is not None:
                    estimated_total = min(estimated_total, max_steps)
                warmup_steps = max(warmup_steps, min(200, int(estimated_total * warmup_fraction)))
                bar.total = estimated_total
            elif estimated_total and step % 50 == 0:
                per_step = (time.monotonic() - train_started) / step
                bar.total = max(step, int(budget / per_step)) if budget else step
                if max_steps is not None:
                    bar.total = min(bar.total, max_steps)
            bar.update(1)
            bar.set_postfix(
                loss=f"{loss_ema:.3f}", epoch=epoch, lr=f"{lr * factor:.2e}", threads=threads, refresh=False
            )
    bar.close()
    model.eval()

    train_seconds = time.monotonic() - train_started
    metadata: dict[str, Any] = {
        "pairs": len(pairs),
        "examples": len(examples),
        "steps": step,
        "epochs": round(seen / len(examples), 3),
        "batch_size": batch_size,
        "learning_rate": lr,
        "final_loss": round(sum(recent) / len(recent), 4) if recent else None,
        "minutes": minutes,
        "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        "base": base,
        "size": size if base is None else None,
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab_size": len(tokenizer),
        "seed": seed,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _save(model, tokenizer, Path(out_dir), metadata)
    metadata["out_dir"] = str(out_dir)
    return metadata


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _running_elsewhere() -> float | None:
    """Processes running right now besides this thread (median of a few samples of /proc/loadavg)."""
    samples = []
    try:
        for i in range(5):
            with open("/proc/loadavg") as handle:
                samples.append(int(handle.read().split()[3].split("/")[0]) - 1)
            if i < 4:
                time.sleep(0.01)
    except (OSError, ValueError, IndexError):
        return None
    return float(sorted(samples)[len(samples) // 2])


def _default_threads(own_threads: int = 0) -> int:
    """Threads for the cores other processes leave free (``OSCAR_LLM_TORCH_THREADS`` overrides).

    More threads than free cores makes every step wait for the slowest thread,
    which on a busy machine costs far more than it gains. The one-minute load
    average lags (it stays high for a while after other work ends), so what is
    running right now counts too: the lower of the two wins.
    """
    env = os.environ.get("OSCAR_LLM_TORCH_THREADS")
    if env:
        return max(1, int(env))
    cores = _cores()
    try:
        others = max(0.0, os.getloadavg()[0] - own_threads)
    except OSError:
        return cores
    running = _running_elsewhere()
    if running is not None:
        others = min(others, running)
    return max(1, min(cores, round(cores - others + 0.25)))
