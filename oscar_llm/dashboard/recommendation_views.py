"""Dashboard: how the recommendation blocks perform, per block and per day (read-only)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from ..models import Feature, FeatureSwitch
from ..recommendations.tracking import stats_table

DEFAULT_DAYS = 14
MAX_DAYS = 366


class StatsRangeForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        if start and end and (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(_("Choose at most %(days)s days.") % {"days": MAX_DAYS})
        return data

    def date_range(self) -> tuple[datetime.date, datetime.date]:
        """The chosen range; the last ``DEFAULT_DAYS`` days by default (or when invalid)."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        end = data.get("date_to") or today
        start = data.get("date_from") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        return start, end


class RecommendationStatsView(TemplateView):
    template_name = "oscar_llm/dashboard/recommendation_stats.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = StatsRangeForm(self.request.GET or None)
        start, end = form.date_range()
        context.update(stats_table(start, end))
        context.update(
            form=form,
            date_from=start,
            date_to=end,
            feature_enabled=FeatureSwitch.is_enabled(Feature.RECOMMENDATIONS),
        )
        return context
