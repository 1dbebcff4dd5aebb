"""Product questions: what customers ask on a product page, the evidence found, the answer, the votes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

QA_MAX_QUESTION_CHARS = 1000


class ProductQuestion(models.Model):
    """One customer question about one product, and its answer once there is one.

    Nothing of it shows on the product page until ``status`` is PUBLISHED, and a question holding
    personal data (``private``) is never published whatever its status: the asker alone sees it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Being answered")
        REVIEW = "review", _("Draft waiting for staff")
        NEEDS_STAFF = "needs_staff", _("The shop does not know: waiting for staff")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Rejected")
        ROUTED = "routed", _("Sent to support (order question)")

    class Source(models.TextChoices):
        NONE = "", _("None")
        FACT = "fact", _("Product details")
        COPY = "copy", _("Product description")
        REVIEW = "review", _("Customer review")
        ANSWER = "answer", _("Earlier answer")
        ARTICLE = "article", _("Shop policy")
        STAFF = "staff", _("Answered by staff")

    product = models.ForeignKey("catalogue.Product", on_delete=models.CASCADE, related_name="llm_questions")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="product_questions"
    )
    text = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    private = models.BooleanField(default=False, help_text=_("Holds personal data: never published."))
    flags = models.JSONField(default=list, blank=True)  # why it was held back: personal data, abusive, injection
    answer = models.TextField(blank=True, default="")
    source = models.CharField(max_length=16, choices=Source.choices, blank=True, default="")
    source_label = models.CharField(max_length=200, blank=True, default="")
    evidence = models.JSONField(default=list, blank=True)  # ranked: [{"text", "source", "label", "score"}]
    chosen = models.IntegerField(null=True, blank=True)  # index into evidence
    confidence = models.FloatField(null=True, blank=True, db_index=True)
    checks = models.JSONField(default=list, blank=True)
    model_id = models.CharField(max_length=255, blank=True, default="")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    auto_published = models.BooleanField(default=False)
    ticket_id = models.IntegerField(null=True, blank=True)  # the support ticket an order question opened
    helpful_votes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("answer_productquestion", "Can answer product questions")]
        indexes = [models.Index(fields=["product", "status"])]

    def __str__(self) -> str:
        return f"Q#{self.pk} on product {self.product_id}"

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED and not self.private

    @property
    def chosen_evidence(self) -> dict | None:
        if self.chosen is None or not (0 <= self.chosen < len(self.evidence or [])):
            return None
        return self.evidence[self.chosen]


class QuestionVote(models.Model):
    """One "helpful" vote on a published answer: one per customer (or visitor) and question."""

    question = models.ForeignKey(ProductQuestion, on_delete=models.CASCADE, related_name="votes")
    voter = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "voter"], name="oscar_llm_qa_one_vote")]

    def __str__(self) -> str:
        return f"vote on Q#{self.question_id}"
