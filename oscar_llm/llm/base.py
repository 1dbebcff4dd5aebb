"""Backend interfaces. Nothing here imports torch or transformers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..guardrails.redaction import CustomerIdentity


class ModelUnavailable(RuntimeError):
    """The configured model cannot be loaded or reached (missing directory, server down...)."""


@dataclass
class GenerationRequest:
    """One text to generate.

    ``prompt`` is the plain-text form, used by models without a chat template
    (the shop-trained model is trained on exactly this form). ``messages`` is
    the chat form, used when the tokenizer has a chat template or the backend
    is a chat server.

    ``personal`` is the customer the text is about (``None``: it is about no one, e.g. product
    facts). A backend that sends text out of the process (the OpenAI-compatible one) replaces
    their every known value and anything that looks personal with placeholders, and restores
    them in the answer; ``keep`` lists values it must send as they are (the shop's own order
    numbers and contact details).
    """

    prompt: str
    messages: list[dict[str, str]] = field(default_factory=list)
    max_new_tokens: int = 64
    personal: CustomerIdentity | None = None
    keep: tuple[str, ...] = ()


@dataclass
class GenerationOptions:
    do_sample: bool = False
    temperature: float = 0.8
    top_p: float = 0.95
    seed: int | None = 1234
    num_candidates: int = 1
    batch_size: int = 16


@runtime_checkable
class TextGenerator(Protocol):
    model_id: str

    def generate(self, requests: list[GenerationRequest], options: GenerationOptions) -> list[list[str]]:
        """Return ``options.num_candidates`` texts for each request, in order."""
        ...


@runtime_checkable
class Embedder(Protocol):
    model_id: str

    def embed(self, texts: list[str]) -> list[list[float]]: ...
