"""Marketing: customer profiles and segments, campaigns, campaign copy, consent, sending, measurement.

The Django-free parts (``copy``, ``checks``, ``measurement``) run in the evaluation as they run in
the shop; the rest reads and writes the shop's data (docs/architecture.md, "Marketing").
"""
