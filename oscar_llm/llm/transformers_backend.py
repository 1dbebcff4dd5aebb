"""Hugging Face causal LMs in-process (worker processes only).

torch and transformers are imported when a generator is built, not when this
module is imported, so ``describe_settings`` (the model id jobs are keyed by)
stays cheap enough for any process.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from .base import GenerationOptions, GenerationRequest, ModelUnavailable
from .training import TRAINING_METADATA, _default_threads  # sets the offline and OpenMP defaults too

_ID_FILES = ("config.json", TRAINING_METADATA)


def _looks_local(path: str) -> bool:
    """A path rather than a hub id ("gpt2", "org/name"): absolute, ./ ~, deeper, or its first folder exists."""
    if path.startswith(("/", ".", "~")) or "\\" in path or path.count("/") > 1:
        return True
    return "/" in path and Path(path.split("/", 1)[0]).is_dir()


def describe_model_path(path: str | os.PathLike[str]) -> str:
    """``<dirname>@<sha>`` of a local model (changes when it is retrained); hub ids as given."""
    local = Path(path).expanduser()
    if not local.is_dir():
        return str(path)
    digest = hashlib.sha256()
    for name in _ID_FILES:
        file = local / name
        if file.is_file():
            digest.update(name.encode())
            digest.update(file.read_bytes())
    return f"{local.resolve().name}@{digest.hexdigest()[:12]}"


def _native_bf16(torch: Any) -> bool:
    """Whether the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX); emulated bf16 is slower than float32."""
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        return any(bool(getattr(cpu, name)()) for name in checks if hasattr(cpu, name))
    except Exception:  # a torch without these probes
        return False


def _matmul_dtype(torch: Any, name: str | None, model_dtype: Any) -> Any:
    """The torch dtype of ``GENERATION["matmul_dtype"]`` (None: the model's own)."""
    if name == "auto":
        return torch.bfloat16 if model_dtype == torch.float32 and _native_bf16(torch) else None
    if not name or getattr(torch, name) == model_dtype:
        return None
    return getattr(torch, name)


class TransformersGenerator:
    """A causal LM by local directory or (cached) hub id, generating in padded batches."""

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        num_threads: int | None = None,
        dtype: str | None = None,
        matmul_dtype: str | None = "auto",
    ) -> None:
        """Load ``model_path``; ``dtype`` ("float32", "bfloat16") defaults to the model's own (float32 here).

        bfloat16 roughly halves the cost of batched prompts on CPUs with native
        bf16 (AVX512-BF16, AMX) but makes greedy output depend slightly on the
        batch it was computed in; float32 keeps batched and one-at-a-time equal.

        ``matmul_dtype`` is the type the compact decoder (``llm.decoding``) runs a GPT-2 model's
        matrix products in, everything else staying in ``dtype``: "auto" is bfloat16 on a CPU with
        native bf16 and a float32 model, else the model's own type; "float32" (or None) the model's own.
        """
        path = str(model_path)
        local = Path(path).expanduser()
        if not local.is_dir() and _looks_local(path):
            raise ModelUnavailable(
                f"Model directory {path} does not exist: run `python manage.py oscar_llm_train` "
                "(or set OSCAR_LLM['MODEL'] to a model directory)."
            )
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(num_threads or _default_threads())
        source = str(local) if local.is_dir() else path
        try:
            # Hubs are unreachable: a hub id only loads from the local cache.
            self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
            # Weights only from safetensors files: a pytorch_model.bin is a pickle, and loading one can run
            # code its author put in it.
            self.model = AutoModelForCausalLM.from_pretrained(source, local_files_only=True, use_safetensors=True)
            if dtype:
                self.model = self.model.to(getattr(torch, dtype))
        except Exception as exc:  # missing files, a broken config, a hub id not in the cache...
            raise ModelUnavailable(f"Could not load the text model {path!r}: {exc}") from exc
        self.model.eval()
        self.tokenizer.padding_side = "left"
        self.tokenizer.truncation_side = "left"
        config = self.model.config
        self.max_positions = getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model_path = path
        self.model_id = describe_model_path(path)
        self._torch = torch
        from .decoding import KVDecoder

        self._decoder = None
        if KVDecoder.supports(self.model):
            self._decoder = KVDecoder(self.model, _matmul_dtype(torch, matmul_dtype, self.model.dtype))

    @property
    def decoding(self) -> str:
        """How greedy and sampled texts are decoded: "compact, <type> products" or "generate" (the figures name it)."""
        if self._decoder is None:
            return "generate"
        return f"compact, {str(self._decoder.matmul_dtype or self.model.dtype).replace('torch.', '')} products"

    @classmethod
    def from_settings(cls, s: Any) -> TransformersGenerator:
        generation = s.GENERATION or {}
        return cls(s.model_path, dtype=generation.get("dtype"), matmul_dtype=generation.get("matmul_dtype", "auto"))

    @classmethod
    def describe_settings(cls, s: Any) -> str:
        return describe_model_path(s.model_path)

    # -- prompts ---------------------------------------------------------------------------

    @property
    def uses_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def render(self, request: GenerationRequest) -> str:
        """The text the model is given: the chat template applied to the messages, or the plain prompt."""
        if self.uses_chat_template and request.messages:
            return self.tokenizer.apply_chat_template(request.messages, add_generation_prompt=True, tokenize=False)
        return request.prompt

    # -- scoring ---------------------------------------------------------------------------

    def token_loss(self, texts: list[str], batch_size: int = 16) -> list[float]:
        """Mean negative log-likelihood per token of each text under the model (nats; lower reads more like
        the text it learned from). The support fluency check compares drafts with the library's replies."""
        torch = self._torch
        losses: list[float] = []
        limit = int(self.max_positions or 512)
        with torch.inference_mode():
            for start in range(0, len(texts), max(1, batch_size)):
                chunk = [t or " " for t in texts[start : start + batch_size]]
                encoded = self.tokenizer(chunk, return_tensors="pt", padding=True, truncation=True, max_length=limit)
                mask = encoded["attention_mask"]
                positions = (mask.cumsum(-1) - 1).clamp(min=0)
                logits = self.model(input_ids=encoded["input_ids"], attention_mask=mask, position_ids=positions).logits
                targets = encoded["input_ids"][:, 1:]
                valid = (mask[:, 1:] * mask[:, :-1]).to(logits.dtype)
                nll = torch.nn.functional.cross_entropy(
                    logits[:, :-1].transpose(1, 2).float(), targets, reduction="none"
                )
                per_text = (nll * valid).sum(1) / valid.sum(1).clamp(min=1)
                losses += [float(v) for v in per_text]
        return losses

    # -- generation ------------------------------------------------------------------------

    def generate(self, requests: list[GenerationRequest], options: GenerationOptions) -> list[list[str]]:
        if not requests:
            return []
        torch = self._torch
        texts = [self.render(r) for r in requests]
        add_special = not self.uses_chat_template  # templates already carry their special tokens
        token_ids = self.tokenizer(texts, add_special_tokens=add_special)["input_ids"]
        lengths = [len(ids) for ids in token_ids]
        # Requests with the same token budget share batches; within a group, similar
        # prompt lengths share a batch so there is little padding.
        groups: dict[int, list[int]] = defaultdict(list)
        for i, request in enumerate(requests):
            groups[request.max_new_tokens].append(i)
        results: list[list[str]] = [[] for _ in requests]
        rng = None
        if options.do_sample:
            # A generator of its own: the same seed gives the same candidates, and the
            # process-wide RNG is left alone.
            rng = torch.Generator()
            if options.seed is None:
                rng.seed()
            else:
                rng.manual_seed(options.seed)
        batch_size = max(1, options.batch_size)
        with torch.inference_mode():
            for max_new_tokens, indices in sorted(groups.items()):
                indices = sorted(indices, key=lambda i: lengths[i])
                for start in range(0, len(indices), batch_size):
                    chunk = indices[start : start + batch_size]
                    outputs = self._generate_batch(
                        [texts[i] for i in chunk],
                        [token_ids[i] for i in chunk],
                        max_new_tokens,
                        options,
                        add_special,
                        rng,
                    )
                    for i, candidates in zip(chunk, outputs, strict=True):
                        results[i] = candidates
        return results

    def _left_padded(self, token_ids: list[list[int]]) -> dict[str, Any]:
        """``input_ids`` and ``attention_mask`` as the tokenizer pads them (left, with its pad token)."""
        width = max(len(ids) for ids in token_ids)
        pad = self.tokenizer.pad_token_id
        return {
            "input_ids": self._torch.tensor([[pad] * (width - len(ids)) + list(ids) for ids in token_ids]),
            "attention_mask": self._torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in token_ids]),
        }

    def _generate_kwargs(self, max_new_tokens: int, options: GenerationOptions, rng: Any) -> dict[str, Any]:
        n = max(1, options.num_candidates)
        kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id}
        if self.model.generation_config.eos_token_id is None:
            kwargs["eos_token_id"] = self.tokenizer.eos_token_id
        if options.do_sample:
            # The prompts are repeated n times by the caller and each row draws its own
            # token: sampling runs transformers' cheap greedy loop (see NucleusSampler).
            kwargs.update(do_sample=False, num_beams=1, num_return_sequences=1)
            kwargs["logits_processor"] = self._logits_processors(options.temperature, options.top_p, rng)
        elif n > 1:
            # Several deterministic candidates: the n best beams.
            kwargs.update(do_sample=False, num_beams=n, num_return_sequences=n, early_stopping=True)
        else:
            kwargs.update(do_sample=False, num_beams=1, num_return_sequences=1)
        return kwargs

    def _sampler(self, temperature: float, top_p: float, rng: Any) -> Any:
        """Draw each row's next token: temperature, then top-p among its 64 most likely tokens.

        The same distribution as transformers' sampling with top_k=64 and top_p, without a
        softmax and a draw over the whole vocabulary at every step, and with a generator of its own.
        """
        torch = self._torch

        def draw(scores: Any) -> Any:
            values, indices = torch.topk(scores.float(), min(64, scores.shape[-1]), dim=-1)
            probs = (values / max(temperature, 1e-5)).softmax(dim=-1)
            if top_p < 1.0:
                # Keep the most likely tokens until their probability reaches top_p (at least one).
                probs = probs.masked_fill((probs.cumsum(dim=-1) - probs) > top_p, 0.0)
            return indices.gather(-1, torch.multinomial(probs, 1, generator=rng)).squeeze(-1)

        return draw

    def _logits_processors(self, temperature: float, top_p: float, rng: Any) -> Any:
        from transformers import LogitsProcessor, LogitsProcessorList

        torch = self._torch
        draw = self._sampler(temperature, top_p, rng)

        class NucleusSampler(LogitsProcessor):
            """Scores where the drawn token (:meth:`_sampler`) is the only finite one, so the greedy step picks it."""

            def __call__(self, input_ids: Any, scores: Any) -> Any:
                drawn = draw(scores)[:, None]
                return torch.full_like(scores, float("-inf")).scatter_(-1, drawn, 0.0)

        return LogitsProcessorList([NucleusSampler()])

    def _eos_token_ids(self) -> list[int]:
        """The tokens that end a text, as ``generate`` reads them (the generation config, else the tokenizer's)."""
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        if eos is None:
            return []
        return [int(t) for t in (eos if isinstance(eos, list | tuple) else [eos])]

    def _generate_batch(
        self,
        texts: list[str],
        token_ids: list[list[int]],
        max_new_tokens: int,
        options: GenerationOptions,
        add_special: bool,
        rng: Any = None,
    ) -> list[list[str]]:
        n = max(1, options.num_candidates)
        compact = self._decoder is not None and (options.do_sample or n == 1)
        if options.do_sample and n > 1 and not compact:
            # Candidates of a prompt stay adjacent.
            texts = [text for text in texts for _ in range(n)]
            token_ids = [ids for ids in token_ids for _ in range(n)]
        room = self.max_positions - max_new_tokens if self.max_positions else None
        if room is not None and room < 1:
            raise ValueError(f"max_new_tokens={max_new_tokens} leaves no room for a prompt in {self.max_positions}.")
        if room is None or max(len(ids) for ids in token_ids) <= room:
            encoded = self._left_padded(token_ids)  # the prompts as generate() tokenized them
        else:
            # Over-long prompts keep their end (the facts and the generation prompt) rather than crash.
            encoded = self.tokenizer(
                texts,
                return_tensors="pt",
                padding=True,
                add_special_tokens=add_special,
                truncation=True,
                max_length=room,
            )
        if compact:
            # One token per row per step (greedy, or a sampled draw): the compact decoder, whose batch
            # shrinks as rows end; a prompt's sampled candidates share its pass over the prompt
            # (docs/architecture.md, "Generation").
            draw = self._sampler(options.temperature, options.top_p, rng) if options.do_sample else None
            new_tokens = self._decoder.decode(
                encoded["input_ids"],
                encoded["attention_mask"],
                max_new_tokens,
                self._eos_token_ids(),
                self.tokenizer.pad_token_id,
                draw,
                repeats=n if options.do_sample else 1,
            )
        else:
            output = self.model.generate(
                input_ids=encoded["input_ids"],
                attention_mask=encoded["attention_mask"],
                **self._generate_kwargs(max_new_tokens, options, rng),
            )
            new_tokens = output[:, encoded["input_ids"].shape[1] :]
        decoded = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        return [[text.strip() for text in decoded[i : i + n]] for i in range(0, len(decoded), n)]
