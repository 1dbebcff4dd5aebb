"""The support desk in Oscar's dashboard: queue, ticket, draft decisions, knowledge base, figures.

Each view validates a form and calls one function of ``support.desk`` (writes),
``support.queries`` (reads) or ``support.knowledge_base``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import CreateView, ListView, TemplateView, UpdateView

from ..models import Feature, FeatureSwitch, Job, KnowledgeArticle, ReplyDraft, Ticket
from ..support import desk, forms, knowledge_base, queries


def highlight_citations(text: str, citations: list[dict[str, Any]]) -> SafeString:
    """The draft text, escaped, with each cited span wrapped in <mark> (title = its source)."""
    spans = []
    for index, citation in enumerate(citations or []):
        start, end = citation.get("start"), citation.get("end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
            spans.append((start, end, index))
        else:  # no offsets given: find the quoted value in the text
            needle = str(citation.get("value") or citation.get("quote") or "")
            found = text.find(needle) if needle else -1
            if found >= 0:
                spans.append((found, found + len(needle), index))
    spans.sort()
    out, cursor = [], 0
    for start, end, index in spans:
        if start < cursor:  # overlapping citations: the first one keeps the span
            continue
        citation = citations[index]
        source = (
            f"{_('Article')}: {citation.get('title', '')}"
            if citation.get("kind") == "article"
            else f"{_('Order')} {citation.get('number', '')}: {citation.get('field', '')}"
        )
        out.append(escape(text[cursor:start]))
        out.append(
            f'<mark class="support-citation" data-citation="{index + 1}" title="{escape(source)}">'
            f"{escape(text[start:end])}<sup>{index + 1}</sup></mark>"
        )
        cursor = end
    out.append(escape(text[cursor:]))
    return mark_safe("".join(out).replace("\n", "<br>"))  # noqa: S308 - every piece is escaped above


def support_banner() -> dict[str, Any]:
    return {
        "support_enabled": FeatureSwitch.is_enabled(Feature.SUPPORT),
        "support_figures": queries.figures(),
    }


class QueueView(ListView):
    template_name = "oscar_llm/dashboard/support/queue.html"
    context_object_name = "tickets"
    paginate_by = 30

    def get_queryset(self):
        self.form = forms.QueueFilterForm(self.request.GET or None)
        return queries.queue(**self.form.filters())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        for ticket in context["tickets"]:
            ticket.open_draft = next((d for d in ticket.drafts.all() if d.status == ReplyDraft.Status.DRAFT), None)
        context.update(form=self.form, status_choices=Ticket.Status.choices, tab="queue", **support_banner())
        context["intents"] = sorted(set(Ticket.objects.exclude(intent="").values_list("intent", flat=True)))
        return context


class TicketView(TemplateView):
    template_name = "oscar_llm/dashboard/support/ticket.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        ticket = get_object_or_404(Ticket.objects.select_related("customer"), pk=kwargs["pk"])
        draft = queries.current_draft(ticket)
        job = queries.draft_job(ticket)
        context.update(
            ticket=ticket,
            thread=ticket.messages.select_related("author").order_by("created_at", "pk"),
            orders=queries.customer_orders(ticket.customer)[:10],
            linked_orders=set(ticket.orders.values_list("pk", flat=True)),
            draft=draft,
            draft_html=highlight_citations(draft.text, draft.citations) if draft else "",
            failed_candidate=(draft.facts or {}).get("failed_candidate", "") if draft else "",
            job=job,
            job_failed=job is not None and job.status in (Job.Status.FAILED, Job.Status.PENDING) and bool(job.error),
            job_running=job is not None and job.status in (Job.Status.PENDING, Job.Status.RUNNING),
            history=ticket.drafts.exclude(status=ReplyDraft.Status.DRAFT).order_by("-created_at")[:10],
            approve_form=kwargs.get("approve_form") or forms.ApproveForm(initial={"text": draft.text if draft else ""}),
            reject_form=kwargs.get("reject_form") or forms.RejectForm(),
            note_form=kwargs.get("note_form") or forms.NoteForm(),
            reply_form=kwargs.get("reply_form") or forms.StaffReplyForm(),
            status_choices=Ticket.Status.choices,
            tab="queue",
            **support_banner(),
        )
        return context

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Internal notes, manual replies and status changes (draft decisions have their own views)."""
        ticket = get_object_or_404(Ticket, pk=pk)
        action = request.POST.get("action")
        try:
            if action == "note":
                form = forms.NoteForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(pk=pk, note_form=form))
                desk.add_staff_note(ticket, by=request.user, body=form.cleaned_data["body"])
                messages.success(request, _("Note added (not visible to the customer)."))
            elif action == "reply":
                form = forms.StaffReplyForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(pk=pk, reply_form=form))
                desk.reply(ticket, by=request.user, body=form.cleaned_data["body"])
                messages.success(request, _("Reply sent to the customer."))
            elif action == "status":
                desk.set_status(ticket, request.POST.get("status", ""))
                messages.success(request, _("Status changed."))
            elif action == "regenerate":
                desk.regenerate(ticket)
                messages.success(request, _("A new draft is being written."))
            else:
                messages.error(request, _("Unknown action."))
        except desk.SupportError as exc:
            messages.error(request, str(exc))
        return redirect("oscar_llm_dashboard:support-ticket", pk=pk)


class DraftApproveView(View):
    """Approve as is, or with the edited text from the form (edit and approve)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        draft = get_object_or_404(ReplyDraft, pk=pk)
        form = forms.ApproveForm(request.POST)
        if not form.is_valid():
            for error in form.errors.get("text", []):
                messages.error(request, error)
            return redirect("oscar_llm_dashboard:support-ticket", pk=draft.ticket_id)
        text = form.cleaned_data.get("text") or None
        try:
            desk.approve(draft, by=request.user, text=text)
        except desk.SupportError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Reply sent to the customer."))
        return redirect("oscar_llm_dashboard:support-ticket", pk=draft.ticket_id)


class DraftSaveView(View):
    """Save the (edited) reply into the reply library for the ticket's intent; the next such ticket starts from it."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        draft = get_object_or_404(ReplyDraft.objects.select_related("ticket"), pk=pk)
        form = forms.ApproveForm(request.POST)
        if not form.is_valid():
            for error in form.errors.get("text", []):
                messages.error(request, error)
            return redirect("oscar_llm_dashboard:support-ticket", pk=draft.ticket_id)
        try:
            template = desk.save_to_library(draft, by=request.user, text=form.cleaned_data.get("text") or draft.text)
        except desk.SupportError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Saved to the reply library for '%(intent)s'.") % {"intent": template.intent})
        return redirect("oscar_llm_dashboard:support-ticket", pk=draft.ticket_id)


class DraftRejectView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        draft = get_object_or_404(ReplyDraft, pk=pk)
        form = forms.RejectForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Please say why the draft is rejected."))
        else:
            try:
                desk.reject(draft, by=request.user, reason=form.cleaned_data["reason"])
            except desk.SupportError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Draft rejected; the ticket now needs a human."))
        return redirect("oscar_llm_dashboard:support-ticket", pk=draft.ticket_id)


class FiguresView(TemplateView):
    template_name = "oscar_llm/dashboard/support/figures.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(tab="figures", **support_banner())
        return context


class ArticleListView(ListView):
    template_name = "oscar_llm/dashboard/support/article_list.html"
    context_object_name = "articles"
    model = KnowledgeArticle
    paginate_by = 50
    extra_context = {"tab": "articles"}


class ArticleFormMixin:
    model = KnowledgeArticle
    form_class = forms.ArticleForm
    template_name = "oscar_llm/dashboard/support/article_form.html"
    extra_context = {"tab": "articles"}

    def form_valid(self, form: forms.ArticleForm) -> HttpResponse:
        self.object = knowledge_base.save_article(form.save(commit=False))
        messages.success(self.request, _("Article saved; its embedding is refreshed in the background."))
        return redirect(reverse("oscar_llm_dashboard:support-article-list"))


class ArticleCreateView(ArticleFormMixin, CreateView):
    pass


class ArticleUpdateView(ArticleFormMixin, UpdateView):
    pass
