"""Greedy decoding of GPT-2 models with a preallocated KV cache and a batch that shrinks.

``transformers``' ``generate`` keeps every row of a batch until the longest one ends, grows its KV
cache by ``torch.cat`` at every step and runs its general machinery (masks, processors, stopping
criteria) for each token. For the shop's small GPT-2 models that per-step work costs more than the
arithmetic. :class:`KVDecoder` runs the same model on its own weights with the same operations
(``addmm`` as in ``Conv1D``, ``scaled_dot_product_attention``, the model's own activation), writes
keys and values into a cache allocated once per batch, and drops rows from the batch (and their
cache) as they finish. With the model's own type for the matrix products, greedy output equals
``model.generate(do_sample=False, num_beams=1)`` (``tests/core/test_decoding.py``); with bfloat16
products the next token is still decided by float32 scores among the best few. See
docs/architecture.md, "Generation".

This module imports torch: only :mod:`.transformers_backend` imports it, when a generator is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

# Generation settings that add logits processors to transformers' greedy loop; a model whose
# generation_config sets any of them is left to ``model.generate``.
_PROCESSOR_SETTINGS = {
    "repetition_penalty": (None, 1.0),
    "encoder_repetition_penalty": (None, 1.0),
    "no_repeat_ngram_size": (None, 0),
    "encoder_no_repeat_ngram_size": (None, 0),
    "bad_words_ids": (None,),
    "min_length": (None, 0),
    "min_new_tokens": (None, 0),
    "forced_bos_token_id": (None,),
    "forced_eos_token_id": (None,),
    "suppress_tokens": (None,),
    "begin_suppress_tokens": (None,),
    "sequence_bias": (None,),
    "exponential_decay_length_penalty": (None,),
    "renormalize_logits": (None, False),
    "guidance_scale": (None, 1.0),
    "watermarking_config": (None,),
    "max_time": (None,),
    "stop_strings": (None,),
}
# Candidates whose scores are recomputed in the model's type for a greedy pick when the products run
# in a lower one (a draw reads the low-precision scores: their error is far below the randomness).
RESCORED = 8
# Finished rows are dropped from the batch once they are this share of it: copying the live rows'
# cache costs about as much as a step of a quarter of them.
_COMPACT_SHARE = 0.25


class KVDecoder:
    """Greedy (or caller-drawn) decoding of a ``GPT2LMHeadModel`` over its own weights.

    ``matmul_dtype`` (e.g. ``torch.bfloat16``) runs the matrix products in that type (inputs rounded
    to it; layer norms, attention, residuals and the cache stay in the model's type). The next token
    is then chosen among the :data:`RESCORED` best by their scores recomputed in the model's type
    (a sampled token is drawn from the low-precision scores). Without it every operation is the one ``generate`` runs.
    """

    def __init__(self, model: Any, matmul_dtype: torch.dtype | None = None) -> None:
        transformer = model.transformer
        config = model.config
        self.dtype = transformer.wte.weight.dtype
        self.matmul_dtype = matmul_dtype if matmul_dtype not in (None, self.dtype) else None
        self.wte = transformer.wte.weight
        self.wpe = transformer.wpe.weight
        self.lm_head = model.lm_head.weight
        self.lm_head_low = self._low(self.lm_head)
        self.ln_f = (transformer.ln_f.weight, transformer.ln_f.bias, transformer.ln_f.eps)
        self.n_embd = config.n_embd
        self.n_head = config.n_head
        self.head_dim = config.n_embd // config.n_head
        self.max_positions = config.n_positions
        self.layers = []
        for index, block in enumerate(transformer.h):
            scaling = self.head_dim**-0.5 if config.scale_attn_weights else 1.0
            if config.scale_attn_by_inverse_layer_idx:
                scaling /= float(index + 1)
            self.layers.append(
                (
                    (block.ln_1.weight, block.ln_1.bias, block.ln_1.eps),
                    self._conv(block.attn.c_attn),
                    self._conv(block.attn.c_proj),
                    (block.ln_2.weight, block.ln_2.bias, block.ln_2.eps),
                    self._conv(block.mlp.c_fc),
                    block.mlp.act,
                    self._conv(block.mlp.c_proj),
                    scaling,
                )
            )

    def _low(self, weight: torch.Tensor) -> torch.Tensor:
        return weight.detach().to(self.matmul_dtype) if self.matmul_dtype else weight

    def _conv(self, conv: Any) -> tuple[torch.Tensor, torch.Tensor]:
        return self._low(conv.weight), self._low(conv.bias)

    @staticmethod
    def supports(model: Any) -> bool:
        """Whether ``model`` is a plain GPT-2 LM whose greedy ``generate`` this decoder reproduces."""
        config = getattr(model, "config", None)
        if config is None or getattr(config, "model_type", None) != "gpt2" or not hasattr(model, "transformer"):
            return False
        if config.add_cross_attention or config.reorder_and_upcast_attn or model.training:
            return False
        if getattr(config, "_attn_implementation", None) != "sdpa":
            return False
        generation = getattr(model, "generation_config", None)
        return all(getattr(generation, name, None) in allowed for name, allowed in _PROCESSOR_SETTINGS.items())

    # -- the model ---------------------------------------------------------------------------

    def _linear(self, x: torch.Tensor, weight_bias: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """``x @ weight + bias`` as ``Conv1D`` computes it (its (in, out) weights, one ``addmm``).

        With a ``matmul_dtype`` the input is rounded to it and the result stays in it: the next
        operation either reads it in that type anyway (the activation, whose low-precision kernels
        compute in float and round) or promotes it exactly (a residual sum, the cache).
        """
        weight, bias = weight_bias
        flat = x.reshape(-1, x.shape[-1])
        if self.matmul_dtype is not None:
            flat = flat.to(self.matmul_dtype)
        return torch.addmm(bias, flat, weight).view(*x.shape[:-1], weight.shape[1])

    def _forward(
        self,
        hidden: torch.Tensor,
        cache: list[tuple[torch.Tensor, torch.Tensor]],
        start: int,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        """Run ``hidden`` (batch, new, embd) at cache columns ``start:start+new``; returns the last position's hidden.

        ``mask`` is added to the attention scores (0 where a query may look, -inf elsewhere). The last
        layer writes every position's keys and values but runs the rest only for the last position,
        the one whose scores are read.
        """
        batch, new, _ = hidden.shape
        end = start + new
        shape = (batch, new, self.n_head, self.head_dim)
        last_layer = len(self.layers) - 1
        for index, ((ln_1, c_attn, a_proj, ln_2, c_fc, act, m_proj, scaling), (keys, values)) in enumerate(
            zip(self.layers, cache, strict=True)
        ):
            x = F.layer_norm(hidden, (self.n_embd,), *ln_1[:2], eps=ln_1[2])
            query, key, value = self._linear(x, c_attn).split(self.n_embd, dim=2)
            keys[:, :, start:end] = key.view(shape).transpose(1, 2)
            values[:, :, start:end] = value.view(shape).transpose(1, 2)
            query = query.view(shape).transpose(1, 2).to(self.dtype)
            if index == last_layer and new > 1:
                query, mask, hidden = query[:, :, -1:], mask[..., -1:, :], hidden[:, -1:]
            attended = F.scaled_dot_product_attention(
                query, keys[:, :, :end], values[:, :, :end], attn_mask=mask, scale=scaling
            )
            attended = attended.transpose(1, 2).reshape(batch, query.shape[2], self.n_embd)
            hidden = hidden + self._linear(attended, a_proj)
            x = F.layer_norm(hidden, (self.n_embd,), *ln_2[:2], eps=ln_2[2])
            hidden = hidden + self._linear(act(self._linear(x, c_fc)), m_proj)
        return hidden[:, -1]

    def _scores(self, last: torch.Tensor, rescored: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Next-token scores (batch, vocabulary) from the last hidden states, and the rescored candidates.

        With low-precision products the ``rescored`` best candidates of each row (none when 0) get
        their scores recomputed in the model's type (the second value: their token ids, else None),
        so near ties between them are decided as the model's type decides them.
        """
        normed = F.layer_norm(last, (self.n_embd,), *self.ln_f[:2], eps=self.ln_f[2])
        if self.matmul_dtype is None:
            return F.linear(normed, self.lm_head), None
        scores = F.linear(normed.to(self.matmul_dtype), self.lm_head_low).to(self.dtype)
        if not rescored:
            return scores, None
        best = scores.topk(min(rescored, scores.shape[-1]), dim=-1).indices
        exact = torch.bmm(self.lm_head[best], normed[:, :, None]).squeeze(-1)
        return scores.scatter_(-1, best, exact), best

    @staticmethod
    def _most_likely(scores: torch.Tensor, candidates: torch.Tensor | None) -> torch.Tensor:
        """Each row's highest-scoring token (the lowest id among equals, as ``argmax`` picks), among its candidates."""
        if candidates is None:
            return scores.argmax(dim=-1)
        values = scores.gather(-1, candidates)
        tied = values == values.max(dim=-1, keepdim=True).values
        return candidates.masked_fill(~tied, scores.shape[-1]).min(dim=-1).values

    # -- decoding ----------------------------------------------------------------------------

    def decode(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        max_new_tokens: int,
        eos_token_ids: Sequence[int],
        pad_token_id: int,
        draw: Callable[[torch.Tensor], torch.Tensor] | None = None,
        repeats: int = 1,
    ) -> torch.Tensor:
        """New tokens (batch * repeats, <= max_new_tokens) for left-padded prompts, ``pad_token_id`` after a row's end.

        ``draw`` picks the next token of each row from its scores (default: the most likely one).
        ``repeats`` continues each prompt that many times (rows of a prompt adjacent) from one pass
        over it: several sampled candidates share the prompt's cache. A row ends with one of
        ``eos_token_ids`` (kept, as ``generate`` keeps it) or at the budget.
        """
        prompts, prompt_len = input_ids.shape
        total = prompt_len + max_new_tokens
        if self.max_positions and total > self.max_positions:
            raise ValueError(f"{total} positions exceed the model's {self.max_positions}.")
        attention_mask = attention_mask.to(torch.bool)
        cache = [
            (
                torch.empty(prompts, self.n_head, total, self.head_dim, dtype=self.dtype),
                torch.empty(prompts, self.n_head, total, self.head_dim, dtype=self.dtype),
            )
            for _ in self.layers
        ]
        # Added to the scores of each row's keys: its prompt's tokens, then all it generates.
        key_bias = torch.zeros(prompts, total, dtype=self.dtype)
        key_bias[:, :prompt_len].masked_fill_(~attention_mask, float("-inf"))
        # Positions as generate counts them: a row's tokens from 0, padding left out.
        positions = (attention_mask.long().cumsum(-1) - 1).masked_fill(~attention_mask, 1)
        next_position = attention_mask.sum(-1)

        causal = torch.ones(prompt_len, prompt_len, dtype=torch.bool).tril()
        # A padding position attends to itself too, so no query row is all masked (its output is never read).
        allowed = (causal & attention_mask[:, None, :]) | torch.eye(prompt_len, dtype=torch.bool)
        prompt_bias = torch.zeros(allowed.shape, dtype=self.dtype).masked_fill_(~allowed, float("-inf"))
        hidden = F.embedding(input_ids, self.wte) + F.embedding(positions, self.wpe)
        last = self._forward(hidden, cache, 0, prompt_bias[:, None])

        batch = prompts
        if repeats > 1:
            batch = prompts * repeats
            order = torch.arange(prompts).repeat_interleave(repeats)
            cache = [(k.index_select(0, order), v.index_select(0, order)) for k, v in cache]
            key_bias, next_position, last = key_bias[order], next_position[order], last[order]

        # Kept rows are copied into the front of a second set of buffers, then the two swap: no new
        # memory after the first drop.
        spare: list[tuple[torch.Tensor, torch.Tensor]] | None = None
        output = torch.full((batch, max_new_tokens), pad_token_id, dtype=torch.long)
        eos = torch.tensor(list(eos_token_ids), dtype=torch.long)
        rows = torch.arange(batch)  # the original row of each row still in the batch
        alive = torch.ones(batch, dtype=torch.bool)  # rows in the batch that have not ended
        steps = 0
        for step in range(max_new_tokens):
            scores, candidates = self._scores(last, 0 if draw is not None else RESCORED)
            tokens = draw(scores) if draw is not None else self._most_likely(scores, candidates)
            output[rows[alive], step] = tokens[alive]
            steps = step + 1
            alive &= ~torch.isin(tokens, eos)
            n_alive = int(alive.sum())
            if n_alive == 0 or steps == max_new_tokens:
                break
            column = prompt_len + step
            if len(rows) - n_alive >= max(1, _COMPACT_SHARE * len(rows)):
                keep = alive.nonzero().squeeze(1)
                if spare is None:
                    spare = [(torch.empty_like(keys), torch.empty_like(values)) for keys, values in cache]
                kept = len(keep)
                compacted = []
                for (keys, values), (spare_keys, spare_values) in zip(cache, spare, strict=True):
                    compacted.append(
                        (
                            torch.index_select(keys, 0, keep, out=spare_keys[:kept]),
                            torch.index_select(values, 0, keep, out=spare_values[:kept]),
                        )
                    )
                spare, cache = cache, compacted
                key_bias, next_position, rows, tokens = key_bias[keep], next_position[keep], rows[keep], tokens[keep]
                alive = alive[keep]
            hidden = F.embedding(tokens, self.wte) + F.embedding(next_position, self.wpe)
            last = self._forward(hidden[:, None], cache, column, key_bias[:, None, None, : column + 1])
            next_position = next_position + 1
        return output[:, :steps]
