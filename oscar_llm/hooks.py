"""Named services one feature offers and another uses, without importing it.

Features never import each other (docs/architecture.md, "Layers"). Where one needs what another does
(a product question about an order opens a support ticket), the feature that does it registers a
function under a name in its ``wiring.ready()`` and the other calls it by name; with nothing
registered (the feature is not installed) :func:`call` raises :class:`HookMissing` and the caller
decides what to do instead.

Names in use: ``"support.open_ticket"`` ``(customer, subject, body) -> ticket`` (the support desk).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_HOOKS: dict[str, Callable[..., Any]] = {}


class HookMissing(LookupError):
    """No feature registered a service under this name."""


def register(name: str, func: Callable[..., Any]) -> None:
    _HOOKS[name] = func


def available(name: str) -> bool:
    return name in _HOOKS


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    try:
        func = _HOOKS[name]
    except KeyError:
        raise HookMissing(f"No service registered as {name!r}.") from None
    return func(*args, **kwargs)
