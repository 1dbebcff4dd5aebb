"""REST: the status of background jobs (staff only). Jobs are core: every feature's kinds are listed."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, serializers, viewsets

from ..models import Job
from ..permissions import CanViewJobs
from .common import Pages


class JobSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "target_model",
            "target_id",
            "params",
            "status",
            "attempts",
            "error",
            "result",
            "model_id",
            "prompt_version",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
        ]
        read_only_fields = fields


class JobViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Job status (staff allowed to see the job table, as on the dashboard's Jobs page)."""

    serializer_class = JobSerializer
    permission_classes = [CanViewJobs]
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[Job]:
        qs = Job.objects.order_by("-created_at")
        value = self.request.query_params.get("status")
        return qs.filter(status=value) if value else qs
