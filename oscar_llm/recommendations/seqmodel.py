"""A small SASRec-style sequence model: P(next item | history), item embeddings from the title vectors.

Why this model: on short, sparse histories (Amazon-like: ~8 events per user) the next item depends on the
last few items and on what the items are; a causal self-attention encoder over the history captures the
order, and initialising/deriving item embeddings from the MiniLM title vectors (a learned projection plus a
per-item correction) lets rarely seen items borrow from their text. Trained with cross-entropy over a
full softmax when the catalogue has at most ``seq_negatives`` items, else over a sampled softmax (the
batch's own targets plus ``seq_negatives`` uniform random items, shared by the batch); on CPU threads,
within a wall-clock budget. A full softmax over 17k items measured ~3.5x slower per epoch on 2 cores;
4,096 sampled items raised validation recall@10 over 1,024 at ~1.3x the cost. The learning rate decays
on a cosine to zero (validation recall@10 of the default blend 0.144 against 0.134 at a constant rate).

torch is imported inside functions only: importing this module costs nothing on a web process.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np


def _use_threads(threads: int) -> None:
    """Run torch with the configured intra-op threads in this process (training and inference alike).

    Not restored afterwards on purpose: a process that runs the sequence model keeps running it. Inference
    uses one thread: on a small machine shared with web and other workers that avoids the spinning that
    made two threads ~3x slower than one (measured while training on 2 busy cores).
    """
    import torch

    threads = max(1, int(threads))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


PROBE_BATCHES = 3  # per thread count, at the start of each epoch, when the thread count is chosen by timing


def _thread_choices(threads: int) -> list[int]:
    """Thread counts to try: the configured one, or (0 = auto) one and two where there are two cores."""
    import os

    if int(threads) > 0:
        return [int(threads)]
    return [1, 2] if (os.cpu_count() or 1) >= 2 else [1]


def _build_module(n_items: int, text_dim: int, meta: dict[str, Any]) -> Any:
    import torch
    from torch import nn

    class SASRec(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            d = meta["dim"]
            self.d = d
            self.max_len = meta["max_len"]
            # Row 0 is padding; item row r of the catalogue is embedding row r + 1.
            self.item_emb = nn.Embedding(n_items + 1, d, padding_idx=0)
            nn.init.normal_(self.item_emb.weight, std=0.02 if text_dim else 1.0 / math.sqrt(d))
            with torch.no_grad():
                self.item_emb.weight[0].zero_()
            self.text_proj = nn.Linear(text_dim, d, bias=False) if text_dim else None
            self.register_buffer("text", torch.zeros(n_items + 1, max(text_dim, 1)), persistent=True)
            self.pos_emb = nn.Embedding(self.max_len, d)
            layer = nn.TransformerEncoderLayer(
                d, meta["heads"], dim_feedforward=2 * d, dropout=meta["dropout"], batch_first=True, norm_first=True
            )
            self.encoder = nn.TransformerEncoder(layer, meta["layers"], enable_nested_tensor=False)
            self.norm = nn.LayerNorm(d)
            self.drop = nn.Dropout(meta["dropout"])
            self.out_bias = nn.Parameter(torch.zeros(n_items + 1))

        def items(self) -> Any:
            """Embedding table [n_items + 1, d]: text projection + free per-item vector."""
            emb = self.item_emb.weight
            if self.text_proj is not None:
                emb = emb + self.text_proj(self.text)
            return emb

        def item_rows(self, ids: Any) -> Any:
            """Embeddings of some rows only: projecting all 17k title vectors every step would dominate."""
            emb = self.item_emb(ids)
            if self.text_proj is not None:
                emb = emb + self.text_proj(self.text[ids])
            return emb

        def encode(self, seq: Any, table: Any) -> Any:
            """Hidden states [B, L, d] of right-padded sequences (causal: padding never leaks backwards)."""
            length = seq.shape[1]
            x = table[seq] * math.sqrt(self.d) + self.pos_emb.weight[:length]
            x = self.drop(x)
            mask = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
            return self.norm(self.encoder(x, mask=mask, is_causal=True))

        def logits(self, hidden: Any, table: Any) -> Any:
            return hidden @ table[1:].T + self.out_bias[1:]

    return SASRec()


class SequenceModel:
    """Trained SASRec plus what is needed to run it (weights kept as numpy arrays for saving)."""

    def __init__(self, module: Any, meta: dict[str, Any]) -> None:
        self.module = module
        self._meta = meta
        self.report: dict[str, Any] = meta.get("report", {})
        self._table: Any = None

    def meta(self) -> dict[str, Any]:
        """Architecture and training report, saved as JSON next to the weights."""
        return dict(self._meta)

    # -- training ------------------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        sequences: Sequence[np.ndarray],
        n_items: int,
        vectors: np.ndarray | None,
        cfg: Any,
        *,
        progress: bool = False,
        budget_s: float | None = None,
    ) -> SequenceModel:
        import torch

        started = time.perf_counter()
        choices = _thread_choices(cfg.seq_threads)
        _use_threads(choices[0])
        torch.manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed + 1)
        meta: dict[str, Any] = {
            "n_items": n_items,
            "text_dim": int(vectors.shape[1]) if vectors is not None else 0,
            "dim": cfg.seq_dim,
            "heads": cfg.seq_heads,
            "layers": cfg.seq_layers,
            "max_len": cfg.seq_max_len,
            "dropout": cfg.seq_dropout,
            "threads": 1 if len(choices) > 1 else choices[0],  # for inference
        }
        module = _build_module(n_items, meta["text_dim"], meta)
        if vectors is not None:
            with torch.no_grad():
                module.text[1:] = torch.from_numpy(np.asarray(vectors, dtype=np.float32))
                # Start from the principal directions of the title vectors, so that at step 0 items that
                # read alike already embed alike.
                # (Eigenvectors of the 384x384 covariance: the same directions as an SVD, at a fraction of the cost.)
                centred = np.asarray(vectors, dtype=np.float64) - vectors.mean(axis=0, keepdims=True)
                _, eigvecs = np.linalg.eigh(centred.T @ centred)
                top = eigvecs[:, ::-1][:, : cfg.seq_dim].T
                proj = np.zeros((cfg.seq_dim, vectors.shape[1]), dtype=np.float32)
                proj[: top.shape[0]] = top
                module.text_proj.weight.copy_(torch.from_numpy(proj))
        # Training examples: each sequence's last max_len + 1 items; inputs seq[:-1], targets seq[1:].
        L = cfg.seq_max_len
        seqs = [np.asarray(s[-(L + 1) :], dtype=np.int64) + 1 for s in sequences if len(s) >= 2]
        lengths = np.array([len(s) - 1 for s in seqs])
        optimiser = torch.optim.AdamW(module.parameters(), lr=cfg.seq_lr, weight_decay=cfg.seq_weight_decay)
        bs = cfg.seq_batch_size
        negatives = int(cfg.seq_negatives)
        steps_total = max(1, cfg.seq_epochs * math.ceil(len(seqs) / bs))
        step = 0
        epochs_done, losses, epoch_threads = 0, [], []
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=cfg.seq_epochs, desc="sequence model", unit="epoch")
        stop_reason = "epochs"
        for _epoch in range(cfg.seq_epochs):
            module.train()
            # Batches of similar lengths (little padding), in random order.
            order = np.argsort(lengths + rng.random(len(lengths)), kind="stable")
            batches = [order[i : i + bs] for i in range(0, len(order), bs)]
            rng.shuffle(batches)
            total, count = 0.0, 0
            # Auto threads: the first batches alternate between the choices; the rest of the epoch runs with the
            # one that took least time per position. Two threads are ~1.45x faster on an idle 2-core machine and
            # ~3x slower on a busy one, where they spin against the other processes.
            timing = {t: [0.0, 0] for t in choices}
            chosen = choices[0]
            for b_index, batch in enumerate(batches):
                probing = len(choices) > 1 and b_index < PROBE_BATCHES * len(choices)
                if probing:
                    chosen = choices[b_index % len(choices)]
                elif len(choices) > 1 and b_index == PROBE_BATCHES * len(choices):
                    chosen = min(choices, key=lambda t: timing[t][0] / max(timing[t][1], 1))
                _use_threads(chosen)
                batch_started = time.perf_counter()
                width = int(lengths[batch].max())
                inp = np.zeros((len(batch), width), dtype=np.int64)
                tgt = np.zeros((len(batch), width), dtype=np.int64)
                for j, b in enumerate(batch):
                    s = seqs[b]
                    inp[j, : len(s) - 1] = s[:-1]
                    tgt[j, : len(s) - 1] = s[1:]
                inp_t, tgt_t = torch.from_numpy(inp), torch.from_numpy(tgt)
                keep = tgt_t > 0
                targets = tgt_t[keep]  # embedding rows (catalogue row + 1)
                if n_items <= negatives:
                    table = module.items()
                    hidden = module.encode(inp_t, table)
                    logits = module.logits(hidden[keep], table)
                    loss = torch.nn.functional.cross_entropy(logits, targets - 1)
                else:
                    # Sampled softmax: the batch's own targets (popular items, as they occur) plus uniform
                    # random items (the long tail), shared by every position of the batch. A full softmax
                    # over 17k items costs ~3.5x more per epoch on CPU; see the module docstring.
                    sampled = torch.from_numpy(rng.integers(1, n_items + 1, size=negatives))
                    cand = torch.unique(torch.cat([targets, sampled]))
                    need = torch.unique(torch.cat([inp_t.ravel(), cand]))  # sorted; row 0 (padding) included
                    table = module.item_rows(need)
                    hidden = module.encode(torch.searchsorted(need, inp_t), table)
                    logits = hidden[keep] @ table[torch.searchsorted(need, cand)].T + module.out_bias[cand]
                    loss = torch.nn.functional.cross_entropy(logits, torch.searchsorted(cand, targets))
                # Cosine decay to zero over the run: by steps, or by the time budget once the pace so far says it
                # will end the run first, so a fit cut short on a busy machine still ends on a small learning
                # rate, and a fit that finishes its epochs in time depends on the seed only.
                progress = step / steps_total
                if budget_s and step:
                    elapsed = time.perf_counter() - started
                    if elapsed / step * steps_total > budget_s:
                        progress = max(progress, elapsed / budget_s)
                for group in optimiser.param_groups:
                    group["lr"] = cfg.seq_lr * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
                step += 1
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * int(keep.sum())
                count += int(keep.sum())
                if probing:
                    timing[chosen][0] += time.perf_counter() - batch_started
                    timing[chosen][1] += int(keep.sum())
            epoch_threads.append(chosen)
            epochs_done += 1
            losses.append(round(total / max(count, 1), 4))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=losses[-1])
            elapsed = time.perf_counter() - started
            per_epoch = elapsed / epochs_done
            if budget_s is not None and epochs_done < cfg.seq_epochs and elapsed + per_epoch > budget_s:
                stop_reason = "time budget"
                break
        if bar is not None:
            bar.close()
        module.eval()
        meta["report"] = {
            "epochs": epochs_done,
            "threads": epoch_threads,
            "loss": losses,
            "stopped": stop_reason,
            "seconds": round(time.perf_counter() - started, 2),
            "examples": int(lengths.sum()),
        }
        return cls(module, meta)

    # -- inference -----------------------------------------------------------------------------

    def _items_table(self) -> Any:
        import torch

        if self._table is None:
            with torch.no_grad():
                self._table = self.module.items()
        return self._table

    def log_probs(self, rows: np.ndarray) -> np.ndarray:
        """log P(item | history) for every catalogue item; uniform for an empty history."""
        return self.log_probs_batch([rows])[0]

    def log_probs_batch(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """[len(histories), n_items] float32 log-probabilities of the next item."""
        import torch

        n = self._meta["n_items"]
        L = self._meta["max_len"]
        out = np.full((len(histories), n), -math.log(max(n, 1)), dtype=np.float32)
        nonempty = [i for i, h in enumerate(histories) if len(h)]
        if not nonempty:
            return out
        width = min(L, max(len(histories[i]) for i in nonempty))
        inp = np.zeros((len(nonempty), width), dtype=np.int64)
        last = np.zeros(len(nonempty), dtype=np.int64)
        for j, i in enumerate(nonempty):
            h = np.asarray(histories[i], dtype=np.int64)[-L:] + 1
            inp[j, : len(h)] = h
            last[j] = len(h) - 1
        _use_threads(self._meta.get("threads", 1))
        with torch.no_grad():
            table = self._items_table()
            hidden = self.module.encode(torch.from_numpy(inp), table)
            h_last = hidden[torch.arange(len(nonempty)), torch.from_numpy(last)]
            logp = torch.log_softmax(self.module.logits(h_last, table), dim=-1)
        out[nonempty] = logp.numpy()
        return out

    # -- persistence ---------------------------------------------------------------------------

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy() for k, v in self.module.state_dict().items()}

    @classmethod
    def from_arrays(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> SequenceModel:
        import torch

        module = _build_module(meta["n_items"], meta["text_dim"], meta)
        module.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()})
        module.eval()
        return cls(module, meta)
