"""REST endpoints of product questions: the published Q&A of a product (public, cached), asking
(signed in, throttled and rate-limited) and the staff queue with its decisions.

Thin views over ``qa.services``.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from oscar.core.loading import get_model
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import limits
from ..models import QA_MAX_QUESTION_CHARS, Feature, FeatureSwitch, ProductQuestion
from ..permissions import CanAnswerQuestions
from ..qa import services
from .common import PUBLIC_SCOPE, SUPPORT_SCOPE, ScopedThrottle, ShortPages, id_param

Product = get_model("catalogue", "Product")
CACHE_SECONDS = 60


def _cache_key(product_id: int) -> str:
    return f"oscar_llm:qa:public:{product_id}"


class PublishedAnswerSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductQuestion
        fields = ["id", "product", "text", "answer", "source", "source_label", "helpful_votes", "published_at"]


class AskSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=QA_MAX_QUESTION_CHARS, trim_whitespace=True)


class AskResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    question = serializers.CharField()
    status = serializers.CharField()
    answer = serializers.CharField()
    source = serializers.CharField()
    ready = serializers.BooleanField()


class StaffQuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductQuestion
        fields = [
            "id",
            "product",
            "customer",
            "text",
            "status",
            "private",
            "flags",
            "answer",
            "source",
            "source_label",
            "evidence",
            "chosen",
            "confidence",
            "checks",
            "ticket_id",
            "helpful_votes",
            "created_at",
            "answered_at",
            "published_at",
        ]


class DecisionSerializer(serializers.Serializer):
    answer = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ProductQuestionsView(APIView):
    """Published questions and answers of a public product (and its parent or variants)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedThrottle]
    throttle_scope = PUBLIC_SCOPE

    @extend_schema(responses=PublishedAnswerSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        product = get_object_or_404(Product, pk=pk, is_public=True)
        if not FeatureSwitch.is_enabled(Feature.QA):
            return Response([])
        data = cache.get(_cache_key(product.pk))
        if data is None:
            data = PublishedAnswerSerializer(services.public_questions(product)[:50], many=True).data
            cache.set(_cache_key(product.pk), data, CACHE_SECONDS)
        return Response(data)


class AskView(APIView):
    """A signed-in customer asks about a product; the answer is written by a worker (poll ``status``)."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [ScopedThrottle]
    throttle_scope = SUPPORT_SCOPE

    @extend_schema(request=AskSerializer, responses={201: AskResultSerializer})
    def post(self, request: Request, pk: int) -> Response:
        product = get_object_or_404(Product, pk=pk, is_public=True)
        serializer = AskSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            question = services.ask(
                product, request.user, serializer.validated_data["question"], rate_key=limits.key_for(request)
            )
        except services.QARateLimited as exc:
            return Response({"detail": str(exc)}, status=429, headers={"Retry-After": str(exc.retry_after)})
        except services.QAError as exc:
            return Response({"question": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(AskResultSerializer(services.customer_view(question)).data, status=201)


class QuestionStatusView(APIView):
    """The asker's own question: its status and, once there is one, its answer."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=AskResultSerializer)
    def get(self, request: Request, pk: int) -> Response:
        question = get_object_or_404(ProductQuestion, pk=pk, customer=request.user)
        return Response(AskResultSerializer(services.customer_view(question)).data)


class StaffQuestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The questions queue for staff: filter by ``status`` and ``product``; approve, answer, reject, unpublish."""

    serializer_class = StaffQuestionSerializer
    pagination_class = ShortPages
    permission_classes = [CanAnswerQuestions]
    queryset = ProductQuestion.objects.all()

    @extend_schema(
        parameters=[OpenApiParameter("status", str, required=False), OpenApiParameter("product", int, required=False)]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        qs = ProductQuestion.objects.order_by("-created_at", "-pk")
        if self.action == "list":
            status_ = self.request.query_params.get("status")
            if status_:
                qs = qs.filter(status=status_)
            product = id_param(self.request, "product")
            if product is not None:
                qs = qs.filter(product_id=product)
        return qs

    def _decide(self, request: Request, func: Any, **extra: Any) -> Response:
        question = self.get_object()
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            question = func(question, by=request.user, **{k: serializer.validated_data.get(k) for k in extra})
        except services.QAError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        cache.delete(_cache_key(question.product_id))
        return Response(StaffQuestionSerializer(question).data)

    @extend_schema(request=DecisionSerializer, responses=StaffQuestionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, lambda q, by, answer=None: services.approve(q, by=by, text=answer), answer=1)

    @extend_schema(request=DecisionSerializer, responses=StaffQuestionSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(
            request, lambda q, by, answer=None: services.answer_by_hand(q, by=by, text=answer or ""), answer=1
        )

    @extend_schema(request=DecisionSerializer, responses=StaffQuestionSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(
            request, lambda q, by, reason=None: services.reject(q, by=by, reason=reason or ""), reason=1
        )

    @extend_schema(request=DecisionSerializer, responses=StaffQuestionSerializer)
    @action(detail=True, methods=["post"])
    def unpublish(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, lambda q, by: services.unpublish(q, by=by))
