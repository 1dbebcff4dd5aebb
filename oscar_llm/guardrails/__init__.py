"""Checks that judge any text, whichever feature wrote it (docs/architecture.md, "Checks").

HTML allow-list, redaction, prompt injection, language, numbers, length, banned words and
repetition. A feature combines them with its own checks against its own facts (the product
copy checks are in :mod:`oscar_llm.content.checks`, the support draft checks in
:mod:`oscar_llm.support.checks`).
"""
