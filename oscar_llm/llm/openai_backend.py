"""An OpenAI-compatible chat server as the text generator (vLLM, TGI, Ollama, llama.cpp server).

One ``POST {base_url}/chat/completions`` per request; a batch's requests are sent concurrently, at
most ``OPENAI["concurrency"]`` in flight (servers such as vLLM and TGI batch concurrent requests
themselves; bench/bench_openai_concurrency.py measures the gain against a server with a fixed latency).
Connection errors, timeouts, 429 and 5xx answers are retried with exponential
backoff; anything else, or running out of retries, raises ``ModelUnavailable``
with the server's own error message.

Needs ``requests`` (add it to the ``worker`` extra). Prompts leave the process here, so a
request about a customer (``GenerationRequest.personal``) is redacted here, whatever its caller
did: the customer's every known value and anything that looks personal become placeholders
(:mod:`oscar_llm.guardrails.redaction`), and the placeholders in the server's answer are put back
(docs/architecture.md, "Personal data"). Product facts are about no one and are sent as they are.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import requests.adapters

from ..guardrails.redaction import Redactor
from .base import GenerationOptions, GenerationRequest, ModelUnavailable

RETRY_STATUSES = {429, 500, 502, 503, 504}


def public_url(url: str) -> str:
    """``url`` without user-info, query or fragment: what may be stored in job rows, shown on the
    dashboard and logged (``https://user:secret@host/v1?key=k`` -> ``https://host/v1``)."""
    parts = urlsplit(str(url).strip())
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


class OpenAICompatibleGenerator:
    in_process = False  # prompts leave the process: requests about a customer are redacted

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        timeout: float = 60,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        concurrency: int = 8,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.concurrency = max(1, concurrency)
        if session is None:
            session = requests.Session()
            # One pooled connection per request in flight (requests keeps 10 per host by default).
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=self.concurrency)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session = session
        # The id is stored in every job row and shown on the dashboard: never the credentials in the URL.
        self.public_url = public_url(self.base_url)
        self.model_id = f"openai:{model}@{self.public_url}"

    @classmethod
    def from_settings(cls, s: Any) -> OpenAICompatibleGenerator:
        cfg = s.OPENAI
        return cls(
            cfg["base_url"],
            cfg.get("model") or "",
            api_key=cfg.get("api_key") or "",
            timeout=float(cfg.get("timeout", 60)),
            max_retries=int(cfg.get("max_retries", 3)),
            concurrency=int(cfg.get("concurrency") or 8),
        )

    @classmethod
    def describe_settings(cls, s: Any) -> str:
        cfg = s.OPENAI
        return f"openai:{cfg.get('model') or ''}@{public_url(cfg['base_url'])}"

    # -- generation ------------------------------------------------------------------------

    def generate(self, requests_: list[GenerationRequest], options: GenerationOptions) -> list[list[str]]:
        if not requests_:
            return []
        if self.concurrency == 1 or len(requests_) == 1:
            return [self.complete(r, options) for r in requests_]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests_))) as pool:
            return list(pool.map(lambda r: self.complete(r, options), requests_))

    def payload(self, request: GenerationRequest, options: GenerationOptions, n: int) -> dict[str, Any]:
        messages = request.messages or [{"role": "user", "content": request.prompt}]
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": request.max_new_tokens,
            "temperature": options.temperature if options.do_sample else 0,
            "top_p": options.top_p if options.do_sample else 1,
            "n": n,
        }
        if options.seed is not None:
            body["seed"] = options.seed
        return body

    def complete(self, request: GenerationRequest, options: GenerationOptions) -> list[str]:
        """``options.num_candidates`` texts for one request.

        Some servers (Ollama, llama.cpp) ignore ``n`` and answer with one choice;
        the missing candidates are then asked for one at a time with another seed.
        A request about a customer is redacted before it is sent and its answers restored.
        """
        if request.personal is not None:
            redactor = Redactor(keep=set(request.keep), known=request.personal)
            outgoing = replace(
                request,
                prompt=redactor.redact(request.prompt),
                messages=[{**m, "content": redactor.redact(m.get("content", ""))} for m in request.messages],
                personal=None,
            )
            return [redactor.restore(text) for text in self.complete(outgoing, options)]
        wanted = max(1, options.num_candidates)
        texts = self._post(self.payload(request, options, wanted))
        attempt = 1
        while len(texts) < wanted and attempt < wanted * 2:
            seed = None if options.seed is None else options.seed + attempt
            body = self.payload(request, replace(options, seed=seed), 1)
            texts += self._post(body)
            attempt += 1
        return texts[:wanted]

    def _post(self, body: dict[str, Any]) -> list[str]:
        url = f"{self.base_url}/chat/completions"
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last_error = ""
        last_response: requests.Response | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self._delay(attempt, last_response))
            last_response = None
            try:
                response = self.session.post(url, json=body, headers=headers, timeout=self.timeout)
            except requests.Timeout:
                last_error = f"no answer within {self.timeout}s"
                continue
            except requests.ConnectionError as exc:
                last_error = f"connection failed: {exc}"
                continue
            if response.status_code in RETRY_STATUSES:
                last_response = response
                last_error = f"HTTP {response.status_code}: {_error_message(response)}"
                continue
            if response.status_code >= 400:
                raise ModelUnavailable(
                    f"Model server {self.public_url} refused the request: HTTP {response.status_code}: "
                    f"{_error_message(response)}"
                )
            try:
                data = response.json()
                choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
                return [str((c.get("message") or {}).get("content") or c.get("text") or "").strip() for c in choices]
            except (ValueError, KeyError, TypeError) as exc:
                raise ModelUnavailable(f"Model server {self.public_url} sent an unexpected answer: {exc}") from exc
        raise ModelUnavailable(
            f"Model server {self.public_url} unavailable after {self.max_retries + 1} attempts: {last_error}"
        )

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        delay = self.backoff * (2 ** (attempt - 1))
        if response is not None and response.headers.get("Retry-After", "").strip().isdigit():
            delay = max(delay, float(response.headers["Retry-After"]))
        return min(delay, self.max_backoff)


def _error_message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:500] or response.reason or ""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error)[:500]
    return str(error or data)[:500]
