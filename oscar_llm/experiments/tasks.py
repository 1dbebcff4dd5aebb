"""Periodic tasks of the experiments (beat entries in ``oscar_llm/config.py``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="oscar_llm.experiments.flush_exposures", ignore_result=True)
def flush_exposures() -> int:
    """Move buffered exposures from a shared cache into their rows."""
    from .exposures import flush

    return flush()


@shared_task(name="oscar_llm.experiments.update_bandits", ignore_result=True)
def update_bandits() -> int:
    """Thompson sampling shares per segment for the running bandit experiments."""
    from .services import update_bandits as update

    return update()
