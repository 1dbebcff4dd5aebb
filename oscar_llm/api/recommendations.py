"""REST: recommendations for a product, for the current customer and for a basket (public, throttled).

Thin views over ``recommendations.services.block_items``: the API and the storefront blocks share
one read path, so every business rule applies here too.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from oscar.core.loading import get_model
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Feature, FeatureSwitch
from ..recommendations import services
from .common import MAX_ID, RECOMMENDATIONS_SCOPE, ScopedThrottle

Product = get_model("catalogue", "Product")

MAX_LIMIT = 24
MAX_BASKET_PRODUCTS = 100


class RecommendedItemSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(source="product.pk")
    title = serializers.CharField(source="product.title")
    url = serializers.SerializerMethodField()
    reason = serializers.CharField(
        help_text="The signal behind the item: "
        + ", ".join(("viewed_with", "bought_with", "similar", "for_you", "trending", "popular", "pinned"))
    )
    reason_text = serializers.CharField(help_text="A short sentence for customers, true of that signal.")
    source_product_id = serializers.IntegerField(allow_null=True)
    score = serializers.FloatField()

    def get_url(self, item) -> str:
        request = self.context.get("request")
        url = item.product.get_absolute_url()
        return request.build_absolute_uri(url) if request is not None else url


class RecommendationsSerializer(serializers.Serializer):
    block = serializers.CharField()
    results = RecommendedItemSerializer(many=True)


class RecommendationView(APIView):
    permission_classes = [permissions.AllowAny]
    # Unless the shop sets a rate for this scope, the public one applies (``common.FALLBACK_SCOPES``).
    throttle_classes = [ScopedThrottle]
    throttle_scope = RECOMMENDATIONS_SCOPE
    default_block = services.FOR_YOU

    def limit(self, request) -> int:
        raw = request.query_params.get("limit", "4")
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError({"limit": f"A whole number from 1 to {MAX_LIMIT}, not {raw!r}."}) from None
        if not 1 <= value <= MAX_LIMIT:
            raise ValidationError({"limit": f"A whole number from 1 to {MAX_LIMIT}."})
        return value

    def respond(self, request, block: str, **kwargs) -> Response:
        if not FeatureSwitch.is_enabled(Feature.RECOMMENDATIONS):
            raise NotFound("Recommendations are switched off in this shop.")
        items = services.block_items(block, request=request._request, limit=self.limit(request), **kwargs)
        data = {"block": block, "results": items}
        return Response(RecommendationsSerializer(data, context={"request": request}).data)


class ProductRecommendationsView(RecommendationView):
    """Items for a product page: ``block=product_similar`` (default) or ``product_for_you``."""

    @extend_schema(
        responses=RecommendationsSerializer,
        parameters=[
            OpenApiParameter("block", str, required=False, enum=[services.SIMILAR_BLOCK, services.FOR_YOU]),
            OpenApiParameter("limit", int, required=False),
        ],
    )
    def get(self, request, pk: int):
        product = get_object_or_404(Product, pk=pk, is_public=True)
        block = request.query_params.get("block", services.SIMILAR_BLOCK)
        if block not in (services.SIMILAR_BLOCK, services.FOR_YOU):
            raise ValidationError({"block": f"Choose {services.SIMILAR_BLOCK} or {services.FOR_YOU}."})
        return self.respond(request, block, product=product)


class CustomerRecommendationsView(RecommendationView):
    """Items for the current customer (or anonymous visitor, by their session)."""

    @extend_schema(responses=RecommendationsSerializer, parameters=[OpenApiParameter("limit", int, required=False)])
    def get(self, request):
        return self.respond(request, services.FOR_YOU)


class BasketRecommendationsView(RecommendationView):
    """Items to complete a basket: the current basket, or ``?products=1,2,3``.

    Ids that are not public products are ignored, and one request queues neighbour lists for at most
    ``services.MAX_NEIGHBOUR_REQUESTS`` products, however many ids it names.
    """

    @extend_schema(
        responses=RecommendationsSerializer,
        parameters=[
            OpenApiParameter("products", str, required=False, description="Comma-separated product ids."),
            OpenApiParameter("limit", int, required=False),
        ],
    )
    def get(self, request):
        raw = request.query_params.get("products")
        ids = None
        if raw is not None:
            try:
                ids = [int(p) for p in raw.split(",") if p.strip()]
            except ValueError:
                raise ValidationError({"products": "Comma-separated product ids, e.g. 12,40."}) from None
            if len(ids) > MAX_BASKET_PRODUCTS:
                raise ValidationError({"products": f"At most {MAX_BASKET_PRODUCTS} products."})
            if any(not 1 <= pid <= MAX_ID for pid in ids):
                raise ValidationError({"products": f"Product ids are whole numbers from 1 to {MAX_ID}."})
        return self.respond(request, services.BASKET_COMPLETE, basket_product_ids=ids)
