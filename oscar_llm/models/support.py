"""The support desk: tickets, their messages, drafted replies, the knowledge base."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .core import Job

# Customer text is stored as plain text and escaped on output; this caps what one message may hold.
SUPPORT_MAX_MESSAGE_CHARS = 20_000


class Ticket(models.Model):
    """A customer's support request; the thread is its :class:`Message` rows."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting for staff")
        NEEDS_HUMAN = "needs_human", _("Needs a human")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    class Priority(models.IntegerChoices):
        LOW = 0, _("Low")
        NORMAL = 1, _("Normal")
        HIGH = 2, _("High")
        URGENT = 3, _("Urgent")

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_tickets")
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    intent = models.CharField(max_length=64, blank=True, default="", db_index=True)
    intent_confidence = models.FloatField(null=True, blank=True)
    orders = models.ManyToManyField("order.Order", blank=True, related_name="support_tickets")
    products = models.ManyToManyField("catalogue.Product", blank=True, related_name="support_tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_response_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("answer_ticket", "Can approve support replies")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class Message(models.Model):
    """One entry of a ticket's thread. Customers only ever see CUSTOMER and STAFF messages."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("From the customer")
        STAFF = "staff", _("From staff")
        NOTE = "note", _("Internal note")

    CUSTOMER_VISIBLE = (Kind.CUSTOMER, Kind.STAFF)

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("support message")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on ticket #{self.ticket_id}"


class ReplyDraft(models.Model):
    """A drafted reply to a customer message. Nothing here reaches the customer until approved."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Awaiting review")
        APPROVED = "approved", _("Approved")
        EDITED = "edited", _("Edited and approved")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Superseded")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="drafts")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="reply_drafts")
    text = models.TextField(blank=True, default="")
    citations = models.JSONField(default=list, blank=True)
    checks = models.JSONField(default=list, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    articles = models.JSONField(default=list, blank=True)
    facts = models.JSONField(default=dict, blank=True)
    confidence = models.FloatField(default=0.0)
    needs_human = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    model_id = models.CharField(max_length=255, blank=True, default="")
    prompt_version = models.CharField(max_length=64, blank=True, default="")
    timings = models.JSONField(default=dict, blank=True)
    final_text = models.TextField(blank=True, default="")
    sent_message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="from_draft"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.TextField(blank=True, default="")
    edit_distance = models.PositiveIntegerField(null=True, blank=True)
    # The library reply this draft was adapted from (None: the text model wrote it).
    template = models.ForeignKey(
        "ReplyTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("reply draft")

    def __str__(self) -> str:
        return f"Draft for ticket #{self.ticket_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.DRAFT


class KnowledgeArticle(models.Model):
    """A policy or FAQ the drafter retrieves by embedding; the vector refreshes through a job."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    body = models.TextField()
    tags = models.CharField(max_length=255, blank=True, default="", help_text=_("Comma-separated."))
    active = models.BooleanField(default=True, db_index=True)
    vector = models.JSONField(null=True, blank=True, editable=False)
    vector_model = models.CharField(max_length=255, blank=True, default="", editable=False)
    text_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("knowledge article")

    def __str__(self) -> str:
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]

    def content_hash(self) -> str:
        import hashlib

        return hashlib.sha256(f"{self.title}\n{self.body}\n{self.tags}".encode()).hexdigest()

    @property
    def vector_is_fresh(self) -> bool:
        return bool(self.vector) and self.text_hash == self.content_hash()


class ReplyTemplate(models.Model):
    """One reply of the reply library: a reply that worked, with ``{{Slot}}`` placeholders for one customer's facts.

    Drafts start from these (docs/architecture.md, "Support drafts"); the worker stores the vectors of
    the question and the reply when it loads the library.
    """

    class Source(models.TextChoices):
        SAVED = "saved", _("Saved by staff")
        APPROVED = "approved", _("Approved reply")
        PATTERN = "pattern", _("Shop reply pattern")
        BITEXT = "bitext", _("Imported ticket file")

    intent = models.CharField(max_length=64, db_index=True)
    text = models.TextField(
        help_text=_("The reply, with {{Order Number}}-style placeholders for the customer's facts.")
    )
    question = models.TextField(blank=True, default="", help_text=_("The customer message(s) it answered."))
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SAVED, db_index=True)
    active = models.BooleanField(default=True, db_index=True)
    from_draft = models.ForeignKey(ReplyDraft, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    question_vector = models.JSONField(null=True, blank=True, editable=False)
    reply_vector = models.JSONField(null=True, blank=True, editable=False)
    vector_model = models.CharField(max_length=255, blank=True, default="", editable=False)
    text_hash = models.CharField(max_length=64, blank=True, default="", editable=False, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["intent", "-created_at", "-pk"]
        verbose_name = _("library reply")
        verbose_name_plural = _("reply library")

    def __str__(self) -> str:
        return f"{self.intent}: {self.text[:60]}"

    def content_hash(self) -> str:
        import hashlib

        return hashlib.sha256(f"{self.intent}\n{self.question}\n{self.text}".encode()).hexdigest()

    @property
    def vectors_are_fresh(self) -> bool:
        return bool(self.question_vector) and bool(self.reply_vector) and self.text_hash == self.content_hash()
