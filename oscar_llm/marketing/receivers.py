"""Signal handlers of marketing (connected in ``wiring.ready()``)."""

from __future__ import annotations

from typing import Any

from .segments import set_consent

CONSENT_FIELD = "marketing_opt_in"


def user_registered(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """The registration form's opt-in box (added by the plugin's registration templates), with its time."""
    if user is not None and request is not None and request.POST.get(CONSENT_FIELD):
        set_consent(user, True, source="registration")
