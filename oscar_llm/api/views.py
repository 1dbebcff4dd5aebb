"""REST API: thin views over content.services."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from oscar.core.loading import get_model
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from ..content import services
from ..content.segments import segment_for_request
from ..guardrails.html import sanitize_for_kind
from ..models import ContentDraft, Job, ShopVoice
from ..settings import llm_settings
from . import serializers as s

Product = get_model("catalogue", "Product")


class IsReviewer(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_staff and (user.is_superuser or user.has_perm("oscar_llm.review_contentdraft")))


class PublishedCopyView(APIView):
    """Published copy of a public product, for the caller's segment (or ``?segment=``)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "oscar_llm_public"

    @extend_schema(
        responses=s.PublishedCopySerializer,
        parameters=[
            OpenApiParameter("segment", str, required=False),
            OpenApiParameter("language", str, required=False),
        ],
    )
    def get(self, request, pk: int):
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
        return Response(s.PublishedCopySerializer(data).data)


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class DraftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Drafts of generated copy (staff reviewers only)."""

    serializer_class = s.DraftSerializer
    pagination_class = Pages
    permission_classes = [IsReviewer]

    def get_queryset(self):
        qs = ContentDraft.objects.select_related("product").order_by("-created_at")
        for field in ("status", "kind", "segment", "product"):
            value = self.request.query_params.get(field)
            if value:
                qs = qs.filter(**{field: value})
        return qs

    @extend_schema(request=s.ApproveSerializer, responses=s.DraftSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        draft = self.get_object()
        form = s.ApproveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            services.publish(draft, by=request.user, text=form.validated_data.get("text"))
        except ValueError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        draft.refresh_from_db()
        return Response(s.DraftSerializer(draft).data)

    @extend_schema(request=s.RejectSerializer, responses=s.DraftSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        draft = self.get_object()
        form = s.RejectSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            services.reject(draft, by=request.user, reason=form.validated_data["reason"])
        except ValueError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(s.DraftSerializer(draft).data)


class GenerateView(APIView):
    """Queue generation for products (staff reviewers only). Returns the jobs created."""

    permission_classes = [IsReviewer]

    @extend_schema(request=s.GenerateSerializer, responses={202: s.JobSerializer(many=True)})
    def post(self, request):
        form = s.GenerateSerializer(data=request.data)
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
        return Response(s.JobSerializer(created, many=True).data, status=status.HTTP_202_ACCEPTED)


class JobViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Job status (staff only)."""

    serializer_class = s.JobSerializer
    permission_classes = [permissions.IsAdminUser]
    pagination_class = Pages

    def get_queryset(self):
        qs = Job.objects.order_by("-created_at")
        value = self.request.query_params.get("status")
        return qs.filter(status=value) if value else qs
