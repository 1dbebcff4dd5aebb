"""The one class a shop subclasses to customise the plugin (set ``OSCAR_LLM["ADAPTER"]``)."""

from __future__ import annotations

from typing import Any


class DefaultAdapter:
    """Hooks a shop may override without forking the plugin."""

    def product_facts(self, product: Any, facts: dict[str, Any]) -> dict[str, Any]:
        """Adjust the facts read from a product before they go into a prompt."""
        return facts

    def segment_for_request(self, request: Any) -> str | None:
        """Return a segment for this request, or None to use the stored customer segment."""
        return None


def get_adapter() -> DefaultAdapter:
    from .settings import llm_settings

    return llm_settings.ADAPTER()
