"""REST endpoints of the support desk: customers (own tickets only, throttled) and staff (drafts).

Thin views over ``support.desk`` and ``support.queries``. A customer asking for someone else's ticket
gets a 404, exactly as for a ticket that does not exist; drafts and internal notes
are never serialised for customers.
"""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from ..models import Message, ReplyDraft, Ticket
from ..permissions import IsSupportStaff
from ..support import desk, queries
from .common import SUPPORT_SCOPE, ScopedThrottle, ShortPages, id_param


class LenientJSONParser(JSONParser):
    """JSON whose bytes are not valid UTF-8 is decoded with replacement characters, not refused:
    a customer's message with one bad byte is kept, not lost to a 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            return json.loads(raw.decode("utf-8", errors="replace"))
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc


# --- serializers ----------------------------------------------------------------------------------


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "kind", "body", "created_at"]


class TicketSerializer(serializers.ModelSerializer):
    order_numbers = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = ["id", "subject", "status", "created_at", "updated_at", "first_response_at", "order_numbers"]

    def get_order_numbers(self, ticket: Ticket) -> list[str]:
        return list(ticket.orders.values_list("number", flat=True))


class TicketThreadSerializer(TicketSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages"]

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, ticket: Ticket) -> list[dict[str, Any]]:
        return MessageSerializer(queries.customer_thread(ticket), many=True).data


class TicketCreateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=desk.MAX_SUBJECT_CHARS)
    body = serializers.CharField(trim_whitespace=False)
    order_number = serializers.CharField(required=False, allow_blank=True)


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField(trim_whitespace=False)


class ReplyDraftSerializer(serializers.ModelSerializer):
    # Where the draft came from: the library reply it was adapted from (null: the model wrote it) and
    # what filled each of its slots (docs/architecture.md, "Support drafts").
    library = serializers.SerializerMethodField()
    slots = serializers.SerializerMethodField()

    class Meta:
        model = ReplyDraft
        fields = [
            "id", "ticket", "message", "status", "text", "citations", "checks", "reasons", "articles",
            "confidence", "needs_human", "model_id", "prompt_version", "timings", "final_text",
            "decided_by", "decided_at", "reject_reason", "edit_distance", "created_at", "template",
            "library", "slots",
        ]  # fmt: skip

    def get_library(self, obj: ReplyDraft) -> dict[str, Any] | None:
        return (obj.facts or {}).get("library")

    def get_slots(self, obj: ReplyDraft) -> list[dict[str, Any]]:
        return list((obj.facts or {}).get("slots") or [])


class DraftApproveSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=False, trim_whitespace=False)


class DraftRejectSerializer(serializers.Serializer):
    reason = serializers.CharField()


# --- customer endpoints ---------------------------------------------------------------------------


class CustomerTicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in customer's own tickets. Others' tickets are 404."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [ScopedThrottle]
    throttle_scope = SUPPORT_SCOPE
    parser_classes = [LenientJSONParser, FormParser, MultiPartParser]
    pagination_class = ShortPages

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Ticket.objects.none()
        return queries.tickets_for(self.request.user)

    def get_serializer_class(self):
        return TicketThreadSerializer if self.action == "retrieve" else TicketSerializer

    def _error(self, exc: desk.SupportError) -> Response:
        if isinstance(exc, desk.SupportRateLimited):
            return Response(
                {"detail": str(exc)},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(exc.retry_after)},
            )
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketThreadSerializer})
    def create(self, request):
        form = TicketCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        order = None
        number = form.validated_data.get("order_number")
        if number:
            order = queries.customer_orders(request.user).filter(number=number).first()
            if order is None:
                return Response({"order_number": ["Not one of your orders."]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            desk.count_customer_write(desk.TICKET_LIMIT, request.user)
            ticket = desk.open_ticket(
                request.user, form.validated_data["subject"], form.validated_data["body"], order=order
            )
        except desk.SupportError as exc:
            return self._error(exc)
        return Response(TicketThreadSerializer(ticket).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MessageCreateSerializer, responses={201: MessageSerializer})
    @action(detail=True, methods=["post"])
    def messages(self, request, pk=None):
        ticket = self.get_object()
        form = MessageCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            desk.count_customer_write(desk.MESSAGE_LIMIT, request.user)
            message = desk.add_customer_message(ticket, form.validated_data["body"], author=request.user)
        except desk.SupportError as exc:
            return self._error(exc)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


# --- staff endpoints ------------------------------------------------------------------------------


class SupportDraftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Drafted support replies (support staff only): list, approve (optionally edited), reject."""

    serializer_class = ReplyDraftSerializer
    permission_classes = [IsSupportStaff]
    pagination_class = ShortPages

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, required=False),
            OpenApiParameter("ticket", int, required=False),
            OpenApiParameter("needs_human", bool, required=False),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        qs = ReplyDraft.objects.order_by("-created_at", "-pk")
        params = self.request.query_params
        if params.get("status"):
            qs = qs.filter(status=params["status"])
        ticket = id_param(self.request, "ticket")
        if ticket is not None:
            qs = qs.filter(ticket_id=ticket)
        if params.get("needs_human") in ("true", "1", "false", "0"):
            qs = qs.filter(needs_human=params["needs_human"] in ("true", "1"))
        return qs

    @extend_schema(request=DraftApproveSerializer, responses=ReplyDraftSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Send the draft to the customer; with ``text``, the edited text is sent instead."""
        draft = self.get_object()
        form = DraftApproveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            desk.approve(draft, by=request.user, text=form.validated_data.get("text"))
        except desk.SupportError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        draft.refresh_from_db()
        return Response(ReplyDraftSerializer(draft).data)

    @extend_schema(request=DraftRejectSerializer, responses=ReplyDraftSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        draft = self.get_object()
        form = DraftRejectSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            desk.reject(draft, by=request.user, reason=form.validated_data["reason"])
        except desk.SupportError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(ReplyDraftSerializer(draft).data)
