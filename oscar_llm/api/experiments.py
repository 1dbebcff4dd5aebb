"""REST: experiments and their results (staff: view or change experiment; rolling out copy also needs the
copy reviewers' permission). Thin over ``oscar_llm.experiments.services``, like the dashboard."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from oscar.core.loading import get_model
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from .. import permissions
from ..experiments import services
from ..models import Arm, BlockCode, Experiment
from .common import MAX_ID, Pages

COPY_KINDS = ("title", "description", "meta_description")


class ArmSerializer(serializers.ModelSerializer):
    class Meta:
        model = Arm
        fields = ["id", "name", "is_control", "variant", "segment", "payload", "weight", "position"]
        read_only_fields = ["id", "position"]
        extra_kwargs = {"weight": {"min_value": 1, "max_value": 1000}}


class ExperimentSerializer(serializers.ModelSerializer):
    arms = ArmSerializer(many=True, required=False)
    product_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=1000, write_only=True
    )
    category_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=1000, write_only=True
    )
    products = serializers.SerializerMethodField()
    categories = serializers.SerializerMethodField()
    copy_kind = serializers.ChoiceField(choices=[("", "every text"), *[(k, k) for k in COPY_KINDS]], required=False)
    block = serializers.ChoiceField(choices=[("", "none"), *BlockCode.choices], required=False)
    minimum_lift = serializers.FloatField(min_value=0.01, max_value=5, required=False)
    exploration_floor = serializers.FloatField(min_value=0, max_value=0.3, required=False)
    # Plain strings checked in validate_guardrail_metrics: a second enum of the same choices as
    # primary_metric would give the schema two names for one choice set.
    guardrail_metrics = serializers.ListField(
        child=serializers.CharField(max_length=16),
        required=False,
        max_length=4,
        help_text="Metrics that must not get worse: " + ", ".join(Experiment.Metric.values),
    )

    class Meta:
        model = Experiment
        fields = [
            "id",
            "name",
            "kind",
            "copy_kind",
            "block",
            "campaign",
            "scope",
            "products",
            "categories",
            "product_ids",
            "category_ids",
            "status",
            "mode",
            "primary_metric",
            "guardrail_metrics",
            "minimum_lift",
            "exploration_floor",
            "allocation",
            "winner",
            "created_at",
            "started_at",
            "stopped_at",
            "arms",
        ]
        read_only_fields = ["id", "status", "allocation", "winner", "created_at", "started_at", "stopped_at"]

    def get_products(self, obj: Experiment) -> list[int]:
        return list(obj.products.values_list("pk", flat=True))

    def get_categories(self, obj: Experiment) -> list[int]:
        return list(obj.categories.values_list("pk", flat=True))

    def _existing(self, ids: list[int], model: str, field: str) -> list[Any]:
        app, name = model.split(".")
        found = list(get_model(app, name).objects.filter(pk__in=set(ids)))
        if len(found) != len(set(ids)):
            raise ValidationError({field: "Some of these ids do not exist."})
        return found

    def validate_guardrail_metrics(self, value: list[str]) -> list[str]:
        unknown = [m for m in value if m not in Experiment.Metric.values]
        if unknown:
            raise ValidationError(f"Unknown metrics {unknown}; choose from {list(Experiment.Metric.values)}.")
        return list(dict.fromkeys(value))

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        data["products"] = self._existing(data.pop("product_ids", []), "catalogue.Product", "product_ids")
        data["categories"] = self._existing(data.pop("category_ids", []), "catalogue.Category", "category_ids")
        scope = data.get("scope", Experiment.Scope.ALL)
        if scope == Experiment.Scope.PRODUCTS and not data["products"]:
            raise ValidationError({"product_ids": "Choose the products this experiment runs on."})
        if scope == Experiment.Scope.CATEGORIES and not data["categories"]:
            raise ValidationError({"category_ids": "Choose the categories this experiment runs on."})
        if data.get("kind") == Experiment.Kind.RECOMMENDATION_BLOCK and not data.get("block"):
            raise ValidationError({"block": "Choose the recommendation block this experiment tests."})
        arms = data.get("arms")
        if arms is not None and (len(arms) < 2 or len(arms) > 10 or sum(bool(a.get("is_control")) for a in arms) != 1):
            raise ValidationError({"arms": "Two to ten arms, exactly one of them the control."})
        return data

    def create(self, validated: dict[str, Any]) -> Experiment:
        request = self.context.get("request")
        try:
            return services.create(by=getattr(request, "user", None), **validated)
        except (services.ExperimentError, ValueError) as exc:
            raise ValidationError({"detail": str(exc)}) from exc


class RollOutSerializer(serializers.Serializer):
    arm = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class ExperimentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Experiments (staff allowed to view experiments; creating and deciding needs change experiment)."""

    serializer_class = ExperimentSerializer
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[Experiment]:
        return Experiment.objects.order_by("-created_at", "-pk").prefetch_related("arms")

    def get_permissions(self) -> list[Any]:
        if self.action in ("list", "retrieve", "results", "timeline"):
            return [permissions.CanViewExperiments()]
        return [permissions.CanRunExperiments()]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: Any = None) -> Response:
        """Per arm: visitors, conversions, rates and revenue with intervals, chance to win, expected loss,
        the always-valid lift; the sample-ratio check, CUPED, sample size and days to a decision."""
        return Response(services.results(self.get_object()))

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def timeline(self, request: Request, pk: Any = None) -> Response:
        """Per day: each treatment's cumulative lift over control and its always-valid interval."""
        return Response({"days": services.timeline(self.get_object())})

    def _step(self, step: Any) -> Response:
        experiment = self.get_object()
        try:
            step(experiment)
        except services.ExperimentError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        experiment.refresh_from_db()
        return Response(self.get_serializer(experiment).data)

    @extend_schema(request=None, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: Any = None) -> Response:
        return self._step(services.start)

    @extend_schema(request=None, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: Any = None) -> Response:
        return self._step(services.stop)

    @extend_schema(request=RollOutSerializer, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"], url_path="roll-out")
    def roll_out(self, request: Request, pk: Any = None) -> Response:
        """Stop and roll out one arm (product copy: also needs the copy reviewers' permission)."""
        experiment = self.get_object()
        if experiment.kind == Experiment.Kind.PRODUCT_COPY and not permissions.allowed(
            request.user, permissions.REVIEW_COPY
        ):
            raise PermissionDenied("Rolling out product copy needs the copy reviewers' permission.")
        body = RollOutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        arm = experiment.arms.filter(pk=body.validated_data["arm"]).first()
        if arm is None:
            raise ValidationError({"arm": "Not an arm of this experiment."})
        return self._step(lambda e: services.roll_out(e, arm, by=request.user))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        experiment = serializer.save()
        return Response(self.get_serializer(experiment).data, status=status.HTTP_201_CREATED)
