"""The demo shop: catalogue, customers, histories, support tickets and the demo knowledge base.

Only the ``oscar_llm_demo_data`` command, the tests and the benches import this package; the plugin
never falls back to it at run time (docs/architecture.md, "Layers").
"""
