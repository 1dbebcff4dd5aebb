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
# Django's own model permissions, given in Django admin (Users / Groups) like any other.
EDIT_KNOWLEDGE_PERM = "oscar_llm.change_knowledgearticle"
VIEW_JOBS_PERM = "oscar_llm.view_job"
RUN_JOBS_PERM = "oscar_llm.change_job"
VIEW_RECOMMENDATION_STATS_PERM = "oscar_llm.view_recommendationstat"
VIEW_EXPERIMENTS_PERM = "oscar_llm.view_experiment"
RUN_EXPERIMENTS_PERM = "oscar_llm.change_experiment"
ANSWER_QUESTIONS_PERM = "oscar_llm.answer_productquestion"
MANAGE_CAMPAIGNS_PERM = "oscar_llm.manage_campaign"

Rule = list[str] | tuple[list[str], ...]

# Any staff member: only the floor every rule below adds to. Every dashboard URL names one of the
# narrower rules in ``dashboard/apps.py`` (a test fails for a page that does not).
STAFF: Rule = ["is_staff"]
# Publishing or withdrawing product copy changes what customers read.
REVIEW_COPY: Rule = (["is_staff", REVIEW_COPY_PERM], ["is_staff", "is_superuser"])
# Support replies reach customers; the queue and its figures show what customers wrote.
ANSWER_TICKETS: Rule = (["is_staff", ANSWER_TICKETS_PERM], ["is_staff", "is_superuser"])
# The policies every support draft is grounded in (and that the promise check reads as permission to
# offer a refund): editing them changes what drafts may promise.
EDIT_KNOWLEDGE: Rule = (["is_staff", EDIT_KNOWLEDGE_PERM], ["is_staff", "is_superuser"])
# The job table shows errors and targets of every feature; the sweep re-queues work.
VIEW_JOBS: Rule = (["is_staff", VIEW_JOBS_PERM], ["is_staff", "is_superuser"])
RUN_JOBS: Rule = (["is_staff", RUN_JOBS_PERM], ["is_staff", "is_superuser"])
VIEW_RECOMMENDATION_STATS: Rule = (["is_staff", VIEW_RECOMMENDATION_STATS_PERM], ["is_staff", "is_superuser"])
# Experiments: results show the shop's conversion figures; running one changes what visitors see (rolling
# out a product copy winner also needs REVIEW_COPY, checked by the view and the API).
VIEW_EXPERIMENTS: Rule = (["is_staff", VIEW_EXPERIMENTS_PERM], ["is_staff", "is_superuser"])
RUN_EXPERIMENTS: Rule = (["is_staff", RUN_EXPERIMENTS_PERM], ["is_staff", "is_superuser"])
# Product answers are published on the storefront; the queue shows what customers asked.
ANSWER_QUESTIONS: Rule = (["is_staff", ANSWER_QUESTIONS_PERM], ["is_staff", "is_superuser"])
# Campaigns email customers and show who is in which segment.
MANAGE_CAMPAIGNS: Rule = (["is_staff", MANAGE_CAMPAIGNS_PERM], ["is_staff", "is_superuser"])


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


class CanAnswerQuestions(RulePermission):
    rule = ANSWER_QUESTIONS


class CanViewJobs(RulePermission):
    rule = VIEW_JOBS


class CanViewExperiments(RulePermission):
    rule = VIEW_EXPERIMENTS


class CanRunExperiments(RulePermission):
    rule = RUN_EXPERIMENTS


class CanManageCampaigns(RulePermission):
    rule = MANAGE_CAMPAIGNS
