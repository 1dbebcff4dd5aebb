from rest_framework import serializers

from ..models import ContentDraft, ContentKind, Job


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
