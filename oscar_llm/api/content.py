"""REST: product copy. Thin views over ``content.services``; the serializers are next to them."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from oscar.core.loading import get_model
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..content import services
from ..content.segments import segment_for_request
from ..guardrails.html import sanitize_for_kind
from ..models import ContentDraft, ContentKind, ShopVoice
from ..permissions import IsReviewer
from ..settings import llm_settings
from .common import PUBLIC_SCOPE, Pages, ScopedThrottle, id_param
from .jobs import JobSerializer

Product = get_model("catalogue", "Product")


# --- serializers ----------------------------------------------------------------------------------


class PublishedCopySerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    segment = serializers.CharField()
    language = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(help_text="Sanitised HTML.")
    meta_description = serializers.CharField(allow_blank=True)


class DraftSerializer(serializers.ModelSerializer):
    product_title = serializers.CharField(source="product.title", read_only=True)

    class Meta:
        model = ContentDraft
        fields = [
            "id",
            "product",
            "product_title",
            "kind",
            "segment",
            "language",
            "text",
            "status",
            "reasons",
            "facts",
            "prompt_version",
            "model_id",
            "created_at",
            "reviewed_at",
            "review_note",
            "edited",
        ]
        read_only_fields = fields


class ApproveSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, max_length=20000, help_text="Edited text; omit to approve as is.")


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class GenerateSerializer(serializers.Serializer):
    product_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=1000)
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=ContentKind.choices), required=False, allow_empty=False
    )
    force = serializers.BooleanField(default=False)


# --- views ----------------------------------------------------------------------------------------


class PublishedCopyView(APIView):
    """Published copy of a public product, for the caller's segment (or ``?segment=``)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedThrottle]
    throttle_scope = PUBLIC_SCOPE

    @extend_schema(
        responses=PublishedCopySerializer,
        parameters=[
            OpenApiParameter("segment", str, required=False),
            OpenApiParameter("language", str, required=False),
        ],
    )
    def get(self, request: Request, pk: int) -> Response:
        product = get_object_or_404(Product, pk=pk, is_public=True)
        segment = request.query_params.get("segment") or segment_for_request(request)
        if segment not in llm_settings.SEGMENTS:
            segment = "default"
        language = request.query_params.get("language") or ShopVoice.current().language_list[0]
        data = {
            "product_id": product.pk,
            "segment": segment,
            "language": language,
            **{
                kind: services.published_copy(product, kind, segment, language)
                for kind in ("title", "description", "meta_description")
            },
        }
        data["description"] = sanitize_for_kind(data["description"], "description")
        return Response(PublishedCopySerializer(data).data)


class DraftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Drafts of generated copy (staff reviewers only)."""

    serializer_class = DraftSerializer
    pagination_class = Pages
    permission_classes = [IsReviewer]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, required=False),
            OpenApiParameter("kind", str, required=False),
            OpenApiParameter("segment", str, required=False),
            OpenApiParameter("product", int, required=False),
        ]
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[ContentDraft]:
        qs = ContentDraft.objects.select_related("product").order_by("-created_at")
        if self.action == "list" and not self.request.query_params.get("status"):
            # Drafts that repeat the product's text are listed only when asked for by status.
            qs = qs.exclude(status=ContentDraft.Status.NO_CHANGE)
        for field in ("status", "kind", "segment"):
            value = self.request.query_params.get(field)
            if value:
                qs = qs.filter(**{field: value})
        product = id_param(self.request, "product")
        if product is not None:
            qs = qs.filter(product_id=product)
        return qs

    @extend_schema(request=ApproveSerializer, responses=DraftSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: int | None = None) -> Response:
        draft = self.get_object()
        form = ApproveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            services.publish(draft, by=request.user, text=form.validated_data.get("text"))
        except ValueError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        draft.refresh_from_db()
        return Response(DraftSerializer(draft).data)

    @extend_schema(request=RejectSerializer, responses=DraftSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: int | None = None) -> Response:
        draft = self.get_object()
        form = RejectSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            services.reject(draft, by=request.user, reason=form.validated_data["reason"])
        except ValueError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(DraftSerializer(draft).data)


class GenerateView(APIView):
    """Queue generation for products (staff reviewers only). Returns the jobs created."""

    permission_classes = [IsReviewer]

    @extend_schema(request=GenerateSerializer, responses={202: JobSerializer(many=True)})
    def post(self, request: Request) -> Response:
        form = GenerateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        products = Product.objects.filter(pk__in=form.validated_data["product_ids"])
        missing = set(form.validated_data["product_ids"]) - set(products.values_list("pk", flat=True))
        if missing:
            return Response({"product_ids": [f"Unknown products: {sorted(missing)}"]}, status=400)
        created = []
        for product in products:
            created += services.request_generation(
                product, kinds=form.validated_data.get("kinds"), force=form.validated_data["force"]
            )
        return Response(JobSerializer(created, many=True).data, status=status.HTTP_202_ACCEPTED)
