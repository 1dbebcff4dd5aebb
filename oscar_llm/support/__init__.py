"""Support desk: triage, knowledge retrieval, reply drafting and checks (pure Python, no Django)."""
