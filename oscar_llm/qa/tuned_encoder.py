"""The bundled MiniLM fine-tuned on labelled questions (TRAIN), as a feature of the evidence ranker.

Two kinds (``TunedEncoderConfig.kind``):

* ``"bi"``: question and candidate are read apart and scored by the cosine of their vectors, as the
  plain MiniLM cosine is; fine-tuning starts from that cosine and moves it towards the labels (a
  listwise loss: softmax over the question's candidates, the other questions' candidates in the batch
  as further negatives);
* ``"cross"``: the model reads "[CLS] question [SEP] candidate [SEP]" together and a linear head on the
  mean of its last hidden states scores the pair (pointwise "fully answers" loss, a "helps" candidate a
  half-weight negative, plus the listwise one).

Either way the lower ``frozen_layers`` stay as they are and their output for each text (bi) or pair
(cross) is computed once and cached (the same texts recur in every fold and epoch); only the top
layers (and the head) are trained, which keeps fitting to minutes on two CPU threads.

The ranker's logistic regression must learn from scores like those it will see on new questions, not
from scores of questions the encoder was trained on, so :meth:`TunedEncoder.cross_fit` trains one top
per half of TRAIN and scores each half with the other half's top; new questions get the mean of the
halves. See docs/architecture.md, "Product questions".

Saved as safetensors (the trained top layers and head only) plus JSON; the frozen layers are read from
the embedding model's own local files, without network. torch and transformers are imported here only;
the worker and the evaluation import this module, never the web process.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

ENCODER_FILE = "qa_tuned_encoder.safetensors"
ENCODER_META = "qa_tuned_encoder.json"
FORMAT = 1
KINDS = ("bi", "cross")


@dataclass
class TunedEncoderConfig:
    kind: str = "bi"
    frozen_layers: int = 5
    max_length: int = 128
    epochs: float = 1.0
    learning_rate: float = 5e-4
    questions_per_batch: int = 8
    scale: float = 20.0  # bi: cosine x scale are the logits of the listwise loss
    halves: int = 2
    seed: int = 0
    threads: int = 2

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")


Item = str | tuple[str, str]  # a text (bi) or a (question, candidate) pair (cross)


class FrozenLayers:
    """The base model's lower layers; their output per text or pair is cached."""

    def __init__(self, base_path: str | Path, config: TunedEncoderConfig | None = None) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.config = config or TunedEncoderConfig()
        torch.set_num_threads(max(1, self.config.threads))
        self.base_path = Path(base_path)
        self.tokenizer = AutoTokenizer.from_pretrained(str(base_path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(base_path), local_files_only=True).eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.hidden = int(self.model.config.hidden_size)
        self.cache: dict[Item, Any] = {}

    def fill(self, items: Sequence[Item], batch: int = 64) -> None:
        import torch

        missing = sorted(
            {i for i in items if i not in self.cache},
            key=lambda i: len(i) if isinstance(i, str) else len(i[0]) + len(i[1]),
        )
        with torch.no_grad():
            for start in range(0, len(missing), batch):
                chunk = missing[start : start + batch]
                texts: tuple[list[str], ...] = (
                    ([str(i) for i in chunk],)
                    if self.config.kind == "bi"
                    else ([i[0] for i in chunk], [i[1] for i in chunk])
                )
                encoded = self.tokenizer(
                    *texts,
                    truncation="longest_first",
                    max_length=self.config.max_length,
                    padding=True,
                    return_tensors="pt",
                )
                states = self.model(**encoded, output_hidden_states=True).hidden_states[self.config.frozen_layers]
                lengths = encoded["attention_mask"].sum(dim=1).tolist()
                for k, item in enumerate(chunk):
                    self.cache[item] = states[k, : int(lengths[k])].clone()

    def states(self, items: Sequence[Item]) -> list[Any]:
        self.fill(items)
        return [self.cache[i] for i in items]

    def new_top(self) -> Any:
        return _top(copy.deepcopy(self.model.encoder.layer[self.config.frozen_layers :]), self.hidden, self.config.kind)


def _top(layers: Any, hidden: int, kind: str) -> Any:
    import torch

    class Top(torch.nn.Module):
        """The trainable top layers: mean-pooled and normalised (bi) or through a linear head (cross)."""

        def __init__(self) -> None:
            super().__init__()
            self.layers = layers
            for parameter in self.layers.parameters():
                parameter.requires_grad_(True)
            self.head = torch.nn.Linear(hidden, 1) if kind == "cross" else None

        def forward(self, states: list[Any], chunk: int = 32) -> Any:
            # Items of similar length share a padded batch (padding all to the longest costs twice).
            order = sorted(range(len(states)), key=lambda k: states[k].shape[0])
            outputs = []
            for start in range(0, len(order), chunk):
                part = [states[k] for k in order[start : start + chunk]]
                longest = max(s.shape[0] for s in part)
                x = torch.zeros(len(part), longest, hidden)
                mask = torch.zeros(len(part), longest)
                for k, s in enumerate(part):
                    x[k, : s.shape[0]] = s
                    mask[k, : s.shape[0]] = 1.0
                extended = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
                for layer in self.layers:
                    out = layer(x, attention_mask=extended)
                    x = out[0] if isinstance(out, tuple) else out
                pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
                if self.head is not None:
                    outputs.append(self.head(pooled).squeeze(-1))
                else:
                    outputs.append(torch.nn.functional.normalize(pooled, dim=-1))
            result = torch.cat(outputs)
            back = torch.empty(len(order), dtype=torch.long)
            back[torch.tensor(order)] = torch.arange(len(order))
            return result[back]

    return Top()


def _half(qid: str, halves: int) -> int:
    return int(hashlib.sha1(("half:" + qid).encode()).hexdigest(), 16) % halves


class TunedEncoder:
    """Fitted top layers (one per half of TRAIN) over shared :class:`FrozenLayers`."""

    def __init__(self, frozen: FrozenLayers) -> None:
        self.frozen = frozen
        self.config = frozen.config
        self.tops: list[Any] = []

    def _items(self, question: Any) -> list[Item]:
        if self.config.kind == "bi":
            return [question.text] + [c.text for c in question.candidates]
        return [(question.text, c.text) for c in question.candidates]

    def _loss(self, top: Any, group: Sequence[Any]) -> Any:
        import torch

        if self.config.kind == "bi":
            vectors = top(self.frozen.states([q.text for q in group] + [c.text for q in group for c in q.candidates]))
            logits = vectors[: len(group)] @ vectors[len(group) :].T * self.config.scale
        else:
            flat = top(self.frozen.states([p for q in group for p in self._items(q)]))
        labels = torch.tensor([float(label) for q in group for label in q.labels], dtype=torch.float32)
        positive = (labels >= 2).float()
        losses, offset = [], 0
        for k, question in enumerate(group):
            n = len(question.candidates)
            wanted = positive[offset : offset + n]
            if wanted.sum() > 0:
                if self.config.kind == "bi":
                    row = logits[k]  # own candidates first, the batch's other candidates as negatives
                    row = torch.cat([row[offset : offset + n], row[:offset], row[offset + n :]])
                    target = torch.cat([wanted / wanted.sum(), torch.zeros(len(row) - n)])
                else:
                    row, target = flat[offset : offset + n], wanted / wanted.sum()
                losses.append(-(torch.log_softmax(row, 0) * target).sum())
            offset += n
        loss = torch.stack(losses).mean() if losses else None
        if self.config.kind == "cross":
            weight = torch.where(labels == 1, 0.5, 1.0)
            pointwise = torch.nn.functional.binary_cross_entropy_with_logits(flat, positive, weight=weight)
            loss = pointwise if loss is None else loss + pointwise
        return loss

    def _train_top(self, questions: Sequence[Any], seed: int) -> Any:
        import torch

        torch.manual_seed(seed)
        rng = random.Random(seed)
        top = self.frozen.new_top()
        top.train()
        optimiser = torch.optim.AdamW(top.parameters(), lr=self.config.learning_rate, weight_decay=0.01)
        per_batch = max(1, self.config.questions_per_batch)
        total = max(1, round(self.config.epochs * len(questions) / per_batch))
        warmup = max(1.0, 0.1 * total)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1.0 - s / total)
        )
        step = 0
        while step < total:
            shuffled = list(questions)
            rng.shuffle(shuffled)
            for start in range(0, len(shuffled), per_batch):
                if step >= total:
                    break
                loss = self._loss(top, shuffled[start : start + per_batch])
                if loss is not None:
                    optimiser.zero_grad()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
                    optimiser.step()
                schedule.step()
                step += 1
        top.eval()
        return top

    def cross_fit(self, questions: Sequence[Any]) -> dict[str, np.ndarray]:
        """Train one top per half of ``questions`` (labelled); each question's scores by the other halves."""
        labelled = [q for q in questions if q.labels is not None and q.candidates]
        halves = max(2, self.config.halves)
        self.frozen.fill([i for q in labelled for i in self._items(q)])
        parts = [[q for q in labelled if _half(q.qid, halves) == h] for h in range(halves)]
        self.tops = [self._train_top(part, self.config.seed + h) for h, part in enumerate(parts)]
        scores: dict[str, np.ndarray] = {}
        for h, part in enumerate(parts):
            others = [top for k, top in enumerate(self.tops) if k != h]
            for question in part:
                scores[question.qid] = np.mean([self._score_with(top, question) for top in others], axis=0)
        return scores

    def _score_with(self, top: Any, question: Any) -> np.ndarray:
        import torch

        with torch.no_grad():
            out = top(self.frozen.states(self._items(question)))
            if self.config.kind == "bi":
                out = out[1:] @ out[0]
            return out.numpy().astype(np.float64)

    def score(self, question: Any) -> np.ndarray:
        """The mean score of the fitted tops for each candidate (higher: more likely to fully answer)."""
        if not self.tops:
            raise RuntimeError("The tuned encoder is not fitted.")
        if not question.candidates:
            return np.zeros(0)
        return np.mean([self._score_with(top, question) for top in self.tops], axis=0)

    # -- storage ------------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        from safetensors.torch import save_file

        if not self.tops:
            raise RuntimeError("The tuned encoder is not fitted.")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {
            f"top{k}.{name}": value.detach().contiguous()
            for k, top in enumerate(self.tops)
            for name, value in top.state_dict().items()
        }
        path = directory / ENCODER_FILE
        tmp = directory / (ENCODER_FILE + ".tmp")
        save_file(tensors, str(tmp))
        tmp.replace(path)
        meta = {
            "format": FORMAT,
            "config": asdict(self.config),
            "tops": len(self.tops),
            "base": self.frozen.base_path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        (directory / ENCODER_META).write_text(json.dumps(meta, indent=1))
        return path

    @classmethod
    def load(cls, directory: str | Path, base_path: str | Path) -> TunedEncoder:
        """The saved tops over the frozen layers of ``base_path`` (the embedding model's local files)."""
        from safetensors.torch import load_file

        from .files import read_checked_meta

        directory = Path(directory)
        path = directory / ENCODER_FILE
        meta = read_checked_meta(path, directory / ENCODER_META, FORMAT, "tuned encoder")
        model = cls(FrozenLayers(base_path, TunedEncoderConfig(**meta["config"])))
        tensors = load_file(str(path))
        for k in range(int(meta["tops"])):
            top = model.frozen.new_top()
            prefix = f"top{k}."
            top.load_state_dict({name[len(prefix) :]: v for name, v in tensors.items() if name.startswith(prefix)})
            top.eval()
            model.tops.append(top)
        return model
