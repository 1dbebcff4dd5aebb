"""REST: campaigns, segments (with their size), variants (approve, reject) and results (campaign staff only)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ..marketing import campaigns, segments
from ..models import Campaign, CampaignVariant, Lifecycle, MarketingSegment, PriceSegment
from ..permissions import CanManageCampaigns
from .common import Pages, id_param


class SegmentSerializer(serializers.ModelSerializer):
    lifecycles = serializers.ListField(child=serializers.ChoiceField(Lifecycle.choices), required=False, max_length=5)
    price_segments = serializers.ListField(
        child=serializers.ChoiceField(PriceSegment.choices), required=False, max_length=4
    )
    categories = serializers.ListField(child=serializers.CharField(max_length=255), required=False, max_length=20)
    min_orders = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    size = serializers.SerializerMethodField()
    reachable = serializers.SerializerMethodField()

    class Meta:
        model = MarketingSegment
        fields = [
            "id",
            "name",
            "lifecycles",
            "price_segments",
            "categories",
            "abandoners_only",
            "min_orders",
            "size",
            "reachable",
        ]
        read_only_fields = ["id", "size", "reachable"]

    def _summary(self, obj: MarketingSegment) -> dict[str, Any]:
        cache = self.context.setdefault("summaries", {})
        if obj.pk not in cache:
            cache[obj.pk] = segments.segment_summary(obj, sample_size=0)
        return cache[obj.pk]

    def get_size(self, obj: MarketingSegment) -> int:
        return self._summary(obj)["size"]

    def get_reachable(self, obj: MarketingSegment) -> int:
        return self._summary(obj)["reachable"]


class SegmentViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Segments and how many customers each reaches (all, and with marketing consent)."""

    serializer_class = SegmentSerializer
    permission_classes = [CanManageCampaigns]
    pagination_class = Pages
    queryset = MarketingSegment.objects.all()


class VariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignVariant
        fields = [
            "id",
            "campaign",
            "segment",
            "label",
            "subject",
            "preheader",
            "headline",
            "body_html",
            "body_text",
            "cta",
            "facts",
            "reasons",
            "sources",
            "status",
            "edited",
        ]
        read_only_fields = fields


class CampaignSerializer(serializers.ModelSerializer):
    segments = serializers.PrimaryKeyRelatedField(many=True, queryset=MarketingSegment.objects.all())
    holdout_share = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        min_value=Decimal(0),
        max_value=Decimal("0.5"),
        required=False,
        coerce_to_string=False,  # a number in the schema, not a string with a pattern
    )
    attribution_days = serializers.IntegerField(min_value=1, max_value=90, required=False)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "goal",
            "channel",
            "segments",
            "products",
            "offer",
            "voucher",
            "scheduled_at",
            "holdout_share",
            "attribution_days",
            "status",
            "created_at",
            "sent_at",
        ]
        read_only_fields = ["id", "status", "created_at", "sent_at"]

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("products") and not data.get("offer") and not data.get("voucher"):
            raise serializers.ValidationError(
                "Give featured products, or an offer or voucher whose range has products."
            )
        if not data.get("segments"):
            raise serializers.ValidationError({"segments": "Choose at least one segment."})
        return data


class ResultsSerializer(serializers.Serializer):
    arms = serializers.ListField(child=serializers.DictField())
    conversion_uplift = serializers.DictField(allow_null=True)
    revenue_uplift = serializers.DictField(allow_null=True)
    clicks = serializers.IntegerField()
    attribution_days = serializers.IntegerField()


class CampaignViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Campaigns; ``generate`` asks a worker for the copy, ``results`` gives the figures against the holdout."""

    serializer_class = CampaignSerializer
    permission_classes = [CanManageCampaigns]
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[Campaign]:
        return Campaign.objects.prefetch_related("segments", "products")

    def perform_create(self, serializer: CampaignSerializer) -> None:
        serializer.save(created_by=self.request.user)

    @extend_schema(request=None, responses={202: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def generate(self, request: Request, pk: int | None = None) -> Response:
        campaign = self.get_object()
        try:
            campaigns.request_copy(campaign)
        except campaigns.CampaignError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        campaign.refresh_from_db()
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=ResultsSerializer)
    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: int | None = None) -> Response:
        figures = campaigns.results(self.get_object())
        return Response({k: figures[k] for k in ResultsSerializer().fields})


class ApproveVariantSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200, required=False)
    preheader = serializers.CharField(max_length=200, required=False, allow_blank=True)
    headline = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body_text = serializers.CharField(max_length=5000, required=False)
    cta = serializers.CharField(max_length=80, required=False)


class VariantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Variants of campaign copy; approve (optionally with edits, checked again) or reject."""

    serializer_class = VariantSerializer
    permission_classes = [CanManageCampaigns]
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[CampaignVariant]:
        qs = CampaignVariant.objects.order_by("pk")
        campaign = id_param(self.request, "campaign")
        return qs.filter(campaign_id=campaign) if campaign else qs

    @extend_schema(request=ApproveVariantSerializer, responses=VariantSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: int | None = None) -> Response:
        variant = self.get_object()
        form = ApproveVariantSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            campaigns.approve(variant, by=request.user, edits=dict(form.validated_data) or None)
        except campaigns.CampaignError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(VariantSerializer(variant).data)

    @extend_schema(request=None, responses=VariantSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: int | None = None) -> Response:
        variant = campaigns.reject(self.get_object(), by=request.user)
        return Response(VariantSerializer(variant).data)
