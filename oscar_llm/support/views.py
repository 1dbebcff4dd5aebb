"""The customer's side of the support desk, in Oscar's account area.

Views validate a form and call ``support.desk`` (writes) or ``support.queries``
(reads). A customer only ever reaches their own tickets (anything else is a 404)
and only sees customer and staff messages: drafts and internal notes never leave
the dashboard.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, ListView
from oscar.core.loading import get_class

from ..models import Ticket
from . import desk, forms, queries

PageTitleMixin = get_class("customer.mixins", "PageTitleMixin")


class SupportMixin(LoginRequiredMixin, PageTitleMixin):
    active_tab = "support"

    def refused(self, form: Any, exc: desk.SupportError) -> HttpResponse:
        """The form again with the desk's reason; 429 (with Retry-After) when it was a rate limit."""
        form.add_error(None, str(exc))
        response = self.form_invalid(form)
        if isinstance(exc, desk.SupportRateLimited):
            response.status_code = 429
            response["Retry-After"] = str(exc.retry_after)
        return response


class TicketListView(SupportMixin, ListView):
    template_name = "oscar_llm/support/ticket_list.html"
    context_object_name = "tickets"
    paginate_by = 20
    page_title = gettext_lazy("Support")

    def get_queryset(self):
        return queries.tickets_for(self.request.user)


class TicketCreateView(SupportMixin, FormView):
    template_name = "oscar_llm/support/ticket_form.html"
    form_class = forms.TicketForm
    page_title = gettext_lazy("Ask a question")

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["customer"] = self.request.user
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        initial = super().get_initial()
        number = self.request.GET.get("order")
        if number:
            order = queries.customer_orders(self.request.user).filter(number=number).first()
            if order is not None:
                initial["order"] = order.pk
        return initial

    def form_valid(self, form: forms.TicketForm) -> HttpResponse:
        try:
            desk.count_customer_write(desk.TICKET_LIMIT, self.request.user)
            ticket = desk.open_ticket(
                self.request.user,
                form.cleaned_data["subject"],
                form.cleaned_data["body"],
                order=form.cleaned_data.get("order"),
            )
        except desk.SupportError as exc:
            return self.refused(form, exc)
        messages.success(self.request, _("Thank you. We have your message and will reply soon."))
        return redirect("oscar_llm-support-detail", pk=ticket.pk)


class TicketDetailView(SupportMixin, FormView):
    template_name = "oscar_llm/support/ticket_detail.html"
    form_class = forms.ReplyForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            # Another customer's ticket does not exist, as far as this customer can tell.
            self.ticket = get_object_or_404(Ticket, pk=kwargs["pk"], customer=request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self) -> str:
        return self.ticket.subject

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            ticket=self.ticket,
            thread=queries.customer_thread(self.ticket),
            orders=self.ticket.orders.filter(user=self.request.user),
            closed=self.ticket.status == Ticket.Status.CLOSED,
        )
        return context

    def form_valid(self, form: forms.ReplyForm) -> HttpResponse:
        try:
            desk.count_customer_write(desk.MESSAGE_LIMIT, self.request.user)
            desk.add_customer_message(self.ticket, form.cleaned_data["body"], author=self.request.user)
        except desk.SupportError as exc:
            return self.refused(form, exc)
        messages.success(self.request, _("Your reply was sent."))
        return redirect("oscar_llm-support-detail", pk=self.ticket.pk)
