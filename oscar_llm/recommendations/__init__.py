"""Recommendations: the pure engine (engine.py, index.py, seqmodel.py) and the Django side around it."""
