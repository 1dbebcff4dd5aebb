"""Experiments: assignment of visitors to arms, exposures and outcomes, and their statistics.

A core package (docs/architecture.md, "Experiments"): content, recommendations and marketing call it to
learn which arm a visitor sees and to record what was shown; it imports none of them. ``stats`` is plain
NumPy/SciPy and imports no Django.
"""
