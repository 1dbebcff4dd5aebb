"""Evaluation harnesses behind ``manage.py oscar_llm_eval``: they call the shop's own services."""
