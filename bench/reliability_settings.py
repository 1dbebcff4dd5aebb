"""Settings of the reliability bench's own services (bench/bench_reliability.py): the shop's, with
short leases and a sweep every two seconds so a fault is recovered from in seconds, not minutes.

The bench sets the environment (database, broker, model server, directories) before anything
imports this module; workers, beat and the web server it starts read the same variables.
"""

import os

from shop.settings import *  # noqa: F403
from shop.settings import OSCAR_LLM

OSCAR_LLM = {
    **OSCAR_LLM,
    "JOB_LEASE_SECONDS": int(os.environ.get("BENCH_LEASE_SECONDS", "10")),
    "JOB_REQUEUE_AFTER_SECONDS": int(os.environ.get("BENCH_REQUEUE_SECONDS", "3")),
    "OPENAI": {
        **OSCAR_LLM.get("OPENAI", {}),
        "timeout": float(os.environ.get("BENCH_OPENAI_TIMEOUT", "1")),
        "max_retries": 0,
    },
    "RECOMMENDATIONS": {"ENGINE_DIR": os.environ.get("BENCH_ENGINE_DIR", "")},
}
# Only the sweep runs here (every two seconds); the plugin's other periodic tasks would add work the trials
# do not count, so the check that asks for them (oscar_llm.E008) is silenced for this bench.
CELERY_BEAT_SCHEDULE = {
    "oscar-llm-sweep": {"task": "oscar_llm.tasks.sweep_jobs", "schedule": float(os.environ.get("BENCH_SWEEP", "2"))},
}
SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "oscar_llm.E008"]
