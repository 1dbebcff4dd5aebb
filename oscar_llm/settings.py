"""The ``OSCAR_LLM`` settings dict, read through one object with defaults.

Modelled on DRF's ``api_settings``: ``llm_settings.GENERATOR`` returns the
configured value or the default, dotted import strings listed in
``IMPORT_STRINGS`` are resolved to objects, and the cache is dropped when a
test (or anything else) changes ``settings.OSCAR_LLM``.

Runtime switches that admins flip (features on/off, auto-publish, brand voice,
banned words, length limits) are *not* here: they live in the database
(``oscar_llm.models.FeatureSwitch`` and ``ShopVoice``) so they take effect
without a restart.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string


def _default_model_dir() -> str:
    base = Path(getattr(settings, "BASE_DIR", Path.cwd()))
    return str(base / "var" / "shop_model")


DEFAULTS: dict[str, Any] = {
    # Text generation backend: a dotted path to a class implementing
    # ``oscar_llm.llm.base.TextGenerator``.
    "GENERATOR": "oscar_llm.llm.transformers_backend.TransformersGenerator",
    # Local directory or hub id of a causal LM. ``None`` means the shop model
    # that ``oscar_llm_train`` writes to ``MODEL_DIR``.
    "MODEL": None,
    "MODEL_DIR": None,
    # Generation settings shared by every backend.
    "GENERATION": {
        "max_new_tokens": {"title": 32, "description": 160, "meta_description": 64},
        # Measured in bench/bench_generation.py: batches of 128 are the fastest of 32, 128 and 512.
        "batch_size": 128,
        "do_sample": False,
        "temperature": 0.8,
        "top_p": 0.95,
        "seed": 1234,
        # Extra sampled candidates tried when the greedy draft fails its checks.
        "retry_candidates": 3,
        # A text no candidate of the model got through the checks is filled from the facts (a title:
        # brand, gender, colour, article type; a description: one sentence of the segment's lead
        # facts) when that passes them; such drafts say so.
        "pattern_fallback": True,
        # The type an in-process GPT-2 model's matrix products run in: "auto" is bfloat16 on a CPU that
        # multiplies it natively, else float32 (docs/architecture.md, "Generation").
        "matmul_dtype": "auto",
    },
    # OpenAI-compatible server (vLLM, TGI, Ollama, llama.cpp server), used when
    # GENERATOR is "oscar_llm.llm.openai_backend.OpenAICompatibleGenerator".
    "OPENAI": {
        "base_url": "http://127.0.0.1:8000/v1",
        "api_key": "",
        "model": "",
        "timeout": 60,
        "max_retries": 3,
        # Requests in flight at once per worker (a batch of 128 titles is 128 requests); servers
        # such as vLLM batch concurrent requests themselves (bench/bench_openai_concurrency.py).
        "concurrency": 8,
    },
    # Embeddings: the bundled all-MiniLM-L6-v2 unless a local path is given.
    "EMBEDDER": "oscar_llm.llm.embeddings.SentenceTransformerEmbedder",
    "EMBEDDING_MODEL": None,
    # Customer segments; a customer is assigned by what they browse and buy. Each has a label,
    # the facts its copy leads with ("focus": first in the prompt, first in the shop model's
    # training targets for the segment, checked on the dashboard) and how its readers are
    # addressed ("voice", told to instruction-following models). A shop may add segments; a
    # built-in one it leaves without a voice keeps the one below.
    "SEGMENTS": {
        "default": {"label": "Everyone", "focus": []},
        "value": {
            "label": "Value seekers",
            # The price, then what makes it practical and hard-wearing: material, use, size.
            "focus": ["price", "material", "usage", "size"],
            "voice": "Lead with the price, then what makes it practical and hard-wearing: its material, "
            "what it is for and its size. Plain, direct words.",
        },
        "premium": {
            "label": "Premium shoppers",
            "focus": ["brand", "material", "finish"],
            "voice": "Lead with the brand, then the material and finish. Calm, assured words; no superlatives.",
        },
    },
    # Jobs (docs/architecture.md, "Jobs"). The sweep runs as often as the beat schedule says.
    "JOB_MAX_ATTEMPTS": 5,
    "JOB_LEASE_SECONDS": 600,
    "JOB_REQUEUE_AFTER_SECONDS": 120,
    # Job family -> Celery queue (docs/architecture.md, "Queues"). The families: "text" (text
    # generation: product copy, support drafts), "embeddings" (MiniLM vectors), "fits"
    # (recommendation fits and list refreshes), "email" (customer e-mail). A family left out (or
    # None) goes to Celery's default queue, so one plain `celery -A shop worker` runs everything.
    # E.g. {"text": "llm-text", "embeddings": "llm-small", "fits": "llm-small", "email": "llm-small"}
    # puts text generation on the workers started with `-Q llm-text` (GPU hosts).
    "QUEUES": {},
    # How long pages cache published copy (publishing clears it at once in the
    # process that publishes; other processes see it after this many seconds).
    "CACHE_TIMEOUT": 60,
    # Recommendations. Event weights multiply Interaction.weight when the engine fits.
    "RECOMMENDATIONS": {
        "EVENT_RETENTION_DAYS": 365,
        # Page-view events go to a worker as one broker message instead of a database write.
        "ASYNC_EVENTS": True,
        # Page-view events wait in the web process up to this many seconds (or 200 events) and go
        # as one message (interactions.EventBuffer); 0 sends each page view's event at once.
        "EVENT_BATCH_SECONDS": 1.0,
        # Where workers save the fitted engine (never served by the web server).
        "ENGINE_DIR": None,
        "EXCLUDE_PURCHASED": True,
        # How many items each precomputed list keeps (rules and limits cut it at read time).
        "LIST_SIZE": 40,
        # Product neighbour lists are precomputed at fit time up to this many products (most
        # interacted first); the rest are computed by a job the first time a page asks. With
        # 100,000 products a pair of lists costs ~0.15 s of a worker (bench_recommendations.py).
        "PRECOMPUTE_PRODUCTS": 2000,
        # Customer/visitor lists precomputed at fit time: those active in this many days.
        "ACTIVE_DAYS": 30,
        # Events of one customer within this many seconds refresh their list once.
        "REFRESH_DEBOUNCE_SECONDS": 2,
        "HISTORY_LENGTH": 50,
        "CACHE_TIMEOUT": 300,
        "DIVERSITY": None,
        "EXPLORATION": None,
        "ENGINE_CONFIG": None,
    },
    # Per-customer limits (oscar_llm.limits): how often one customer (or, signed out, one client
    # address) may do each thing, per "minute", "hour" or "day". None or a missing action: no limit.
    "RATE_LIMITS": {
        "support.ticket": {"hour": 5, "day": 20},
        "support.message": {"hour": 30, "day": 100},
        "qa.question": {"hour": 10, "day": 50},
        "recommendations.click": {"minute": 60, "day": 2000},
    },
    # How many reverse proxies in front of the shop append to X-Forwarded-For; None: DRF's NUM_PROXIES.
    # 0 keys per-client limits on the connection's address (a client cannot choose its own key).
    "NUM_PROXIES": None,
    # oscar_llm.middleware.DatabaseRestartMiddleware: how long a page (GET/HEAD) waits for a restarting
    # database before the customer gets a 503 with Retry-After. 0 turns the retry off.
    "DATABASE_RETRY_SECONDS": 8,
    # Customisation hooks (allauth-style adapter).
    "ADAPTER": "oscar_llm.adapter.DefaultAdapter",
    # Support desk drafting (oscar_llm.support).
    "SUPPORT": {
        # The shop's own intents on top of Bitext's 27: {"gift_wrapping": ["can you gift wrap it", ...]}.
        "EXTRA_INTENTS": {},
        # Where the fitted triage lives (default: "<MODEL_DIR>.triage", next to the shop model).
        "TRIAGE_DIR": None,
        "ARTICLES_K": 3,
        # Below this, a ticket is marked "needs a human" even when every check passed.
        "MIN_CONFIDENCE": 0.6,
        "MAX_NEW_TOKENS": 200,
        "RETRY_CANDIDATES": 2,
        # Drafts start from the reply library; below this similarity of the ticket to the closest
        # library question the text model writes the draft (docs/architecture.md, "Support drafts").
        "LIBRARY_MIN_SIMILARITY": 0.5,
        # An instruction model or OpenAI-compatible server rewrites the filled library reply in the
        # shop's voice; the rewrite is used only when it passes every check.
        "REWRITE": False,
        # Used for {{Company Name}} when the contact article has no "Shop:" line.
        "SHOP_NAME": "",
        # The class behind every support desk write (a subclass of oscar_llm.support.desk.SupportDesk).
        "DESK": "oscar_llm.support.desk.SupportDesk",
        # Tickets untouched for this many days are deleted with their messages and reply drafts by the
        # daily purge (oscar_llm.support.tasks.purge_old_tickets), as interactions are after
        # RECOMMENDATIONS["EVENT_RETENTION_DAYS"]. None keeps them for ever.
        "RETENTION_DAYS": 730,
    },
    # Product questions (oscar_llm.qa).
    "QA": {
        # Where the fitted evidence ranker lives (default: "<MODEL_DIR>.qa"; fitted by
        # `oscar_llm_train --qa-ranker EPQA.csv`). Without one, questions are ranked by MiniLM cosine.
        "RANKER_DIR": None,
        # Without a fitted ranker: the cosine of the best evidence at which a question counts as answered.
        "MIN_COSINE": 0.55,
        # "quote": quote the evidence with a lead-in (measured to read better, README "Product questions");
        # "model": the configured generator writes the answer (falls back to the quote when a check fails).
        "WRITER": "quote",
        "MAX_NEW_TOKENS": 48,
    },
    # Marketing campaigns (oscar_llm.marketing).
    "MARKETING": {
        # Lifecycle by days since the last order: new (first order within NEW_DAYS), active, lapsing, lapsed.
        "NEW_DAYS": 30,
        "ACTIVE_DAYS": 60,
        "LAPSING_DAYS": 180,
        # A basket with lines, untouched this many hours and no order since, is abandoned (up to ABANDON_DAYS).
        "ABANDON_HOURS": 2,
        "ABANDON_DAYS": 14,
        # Average price paid against the catalogue's median price: below VALUE_RATIO value, above PREMIUM_RATIO premium.
        "VALUE_RATIO": 0.8,
        "PREMIUM_RATIO": 1.25,
        "HOLDOUT_SHARE": 0.1,
        "ATTRIBUTION_DAYS": 7,
        "VARIANTS": 2,
        # Emails per batch (one job each) and at most this many emails a minute over all workers.
        "SEND_BATCH": 50,
        "SEND_RATE_PER_MINUTE": 600,
        # A claimed send whose worker died is sent again after this many seconds (its row says it was not sent).
        "CLAIM_TIMEOUT_SECONDS": 600,
        "BANNED_WORDS": [],
        "FROM_EMAIL": None,
    },
}

IMPORT_STRINGS = ("GENERATOR", "EMBEDDER", "ADAPTER")

# Keys earlier releases documented that no code reads: a shop that still sets one is told so.
REMOVED = {
    "PROMPT_VERSION": "each feature versions its own prompts in code (content-v1, support-v1); "
    "the version is part of every job key",
    "SWEEP_INTERVAL_SECONDS": "the job sweep runs as often as CELERY_BEAT_SCHEDULE says",
    "STALE_CONTENT_DAYS": "stale copy is found by its facts, prompt and model, not its age",
}


class LLMSettings:
    def __init__(self) -> None:
        self._cached: dict[str, Any] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        return getattr(settings, "OSCAR_LLM", {}) or {}

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_") or attr not in DEFAULTS:
            raise AttributeError(f"Invalid OSCAR_LLM setting: {attr!r}")
        if attr in self._cached:
            return self._cached[attr]
        value = self.user_settings.get(attr, DEFAULTS[attr])
        if isinstance(DEFAULTS[attr], dict) and isinstance(value, dict) and attr != "SEGMENTS":
            value = {**DEFAULTS[attr], **value}
        if attr == "MODEL_DIR" and not value:
            value = os.environ.get("OSCAR_LLM_MODEL_DIR") or _default_model_dir()
        if attr in IMPORT_STRINGS and isinstance(value, str):
            value = import_string(value)
        self._cached[attr] = value
        return value

    @property
    def model_path(self) -> str:
        """The model the generator loads: ``MODEL`` if set, else the shop model."""
        return self.MODEL or self.MODEL_DIR

    def reload(self) -> None:
        self._cached.clear()


llm_settings = LLMSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "OSCAR_LLM":
        llm_settings.reload()


setting_changed.connect(_reload)


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """System check: ``OSCAR_LLM`` keys this version does not know (a typo is otherwise silent)."""
    from difflib import get_close_matches

    from django.core.checks import Warning

    user = getattr(settings, "OSCAR_LLM", {}) or {}
    if not isinstance(user, dict):
        return [Warning("OSCAR_LLM must be a dict.", id="oscar_llm.W001")]
    messages = []
    for key in sorted(set(user) - set(DEFAULTS)):
        if key in REMOVED:
            hint = f"Remove it: {REMOVED[key]}."
        else:
            close = get_close_matches(key, list(DEFAULTS), n=1)
            hint = f"Did you mean {close[0]!r}?" if close else f"Known keys: {', '.join(sorted(DEFAULTS))}."
        messages.append(
            Warning(f"OSCAR_LLM[{key!r}] is not a setting oscar_llm reads.", hint=hint, id="oscar_llm.W002")
        )
    return messages
