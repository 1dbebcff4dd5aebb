"""Who may do what, written once for the dashboard and the REST API.

Each rule is in the form of Oscar's ``permissions_map`` (a tuple of lists: any list whose
conditions all hold lets the user in) and is checked with Oscar's own ``check_permissions``,
so the dashboard URLs and the API endpoints cannot drift apart. Superusers have every
permission; the ``["is_staff", "is_superuser"]`` alternative says so explicitly.
"""

from __future__ import annotations

from typing import Any

from oscar.views.decorators import check_permissions
from rest_framework.permissions import BasePermission

REVIEW_COPY_PERM = "oscar_llm.review_contentdraft"
ANSWER_TICKETS_PERM = "oscar_llm.answer_ticket"

Rule = list[str] | tuple[list[str], ...]

# Any staff member: the default of every dashboard page and of the read-only staff endpoints.
STAFF: Rule = ["is_staff"]
# Publishing or withdrawing product copy changes what customers read.
REVIEW_COPY: Rule = (["is_staff", REVIEW_COPY_PERM], ["is_staff", "is_superuser"])
# Support replies reach customers.
ANSWER_TICKETS: Rule = (["is_staff", ANSWER_TICKETS_PERM], ["is_staff", "is_superuser"])


def allowed(user: Any, rule: Rule) -> bool:
    """Whether ``user`` passes ``rule`` (Oscar's semantics: inactive users never pass)."""
    return bool(user is not None and check_permissions(user, rule))


class RulePermission(BasePermission):
    """A REST framework permission that checks one of the rules above."""

    rule: Rule = STAFF

    def has_permission(self, request: Any, view: Any) -> bool:
        return allowed(request.user, self.rule)


class IsStaff(RulePermission):
    rule = STAFF


class IsReviewer(RulePermission):
    rule = REVIEW_COPY


class IsSupportStaff(RulePermission):
    rule = ANSWER_TICKETS
