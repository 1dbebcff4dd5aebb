from django.contrib import admin

from .models import (
    Arm,
    ContentDraft,
    ContentVersion,
    CustomerSegment,
    Experiment,
    ExperimentExposure,
    FeatureSwitch,
    Interaction,
    Job,
    KnowledgeArticle,
    Message,
    RecommendationBlock,
    RecommendationList,
    RecommendationRule,
    RecommendationStat,
    ReplyDraft,
    ReplyTemplate,
    ShopVoice,
    Ticket,
)


@admin.register(FeatureSwitch)
class FeatureSwitchAdmin(admin.ModelAdmin):
    """Auto-publish shows only for the features that have it (``AUTO_PUBLISH_FEATURES``): a switch that
    does nothing would make an admin believe support replies could go out unreviewed."""

    list_display = ("feature", "enabled", "auto_publish_state", "updated_at")
    list_editable = ("enabled",)
    list_display_links = ("feature",)

    @admin.display(description="auto-publish")
    def auto_publish_state(self, obj: FeatureSwitch) -> str:
        if not obj.can_auto_publish:
            return "—"
        return "on" if obj.auto_publish else "off"

    def get_fields(self, request, obj=None):
        fields = ["feature", "enabled", "auto_publish"]
        if obj is not None and not obj.can_auto_publish:
            fields.remove("auto_publish")
        return fields


@admin.register(ShopVoice)
class ShopVoiceAdmin(admin.ModelAdmin):
    list_display = ("__str__", "tone", "languages", "title_max_length", "description_max_length", "updated_at")

    def has_add_permission(self, request):
        # A single row holds the shop's voice.
        return not ShopVoice.objects.exists()


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "target_model", "target_id", "status", "attempts", "created_at", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("error", "target_id")
    readonly_fields = [f.name for f in Job._meta.fields]


@admin.register(ContentDraft)
class ContentDraftAdmin(admin.ModelAdmin):
    list_display = ("id", "product", "kind", "segment", "language", "status", "created_at")
    list_filter = ("status", "kind", "segment", "language")
    search_fields = ("text", "product__title", "product__upc")
    raw_id_fields = ("product", "job", "reviewed_by")


@admin.register(ContentVersion)
class ContentVersionAdmin(admin.ModelAdmin):
    list_display = ("id", "product", "kind", "segment", "language", "source", "is_current", "created_at")
    list_filter = ("source", "kind", "is_current")
    raw_id_fields = ("product", "draft", "created_by")


@admin.register(CustomerSegment)
class CustomerSegmentAdmin(admin.ModelAdmin):
    list_display = ("user", "segment", "updated_at")
    list_filter = ("segment",)
    raw_id_fields = ("user",)


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ("event", "product", "user", "session_key", "weight", "created_at")
    list_filter = ("event",)
    raw_id_fields = ("product", "user")


@admin.register(RecommendationBlock)
class RecommendationBlockAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "enabled", "size", "updated_at")
    list_editable = ("title", "enabled", "size")
    list_display_links = ("code",)

    def has_add_permission(self, request):
        # One row per block the storefront knows; they are created on first use.
        return False

    def get_queryset(self, request):
        RecommendationBlock.ensure_rows()
        return super().get_queryset(request)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RecommendationStat)
class RecommendationStatAdmin(admin.ModelAdmin):
    list_display = ("day", "block", "impressions", "clicks", "basket_additions")
    list_filter = ("block",)
    date_hierarchy = "day"


@admin.register(RecommendationRule)
class RecommendationRuleAdmin(admin.ModelAdmin):
    """Pin, boost or exclude products and include/exclude categories, per block or for every block."""

    list_display = ("action", "block", "product", "category", "boost", "position", "active", "created_at")
    list_filter = ("action", "block", "active")
    list_editable = ("active",)
    raw_id_fields = ("product", "category")
    search_fields = ("product__title", "product__upc", "category__name")


@admin.register(RecommendationList)
class RecommendationListAdmin(admin.ModelAdmin):
    """Read-only view of what the workers precomputed (useful to answer "why was this shown?")."""

    list_display = ("kind", "key", "engine_version", "updated_at")
    list_filter = ("kind",)
    search_fields = ("key",)
    readonly_fields = ("kind", "key", "items", "engine_version", "updated_at")

    def has_add_permission(self, request):
        return False


# --- support desk ---------------------------------------------------------------------------------


class SupportMessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("kind", "author", "body", "created_at")
    raw_id_fields = ("author",)


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "customer", "status", "priority", "intent", "intent_confidence", "created_at")
    list_filter = ("status", "priority", "intent")
    search_fields = ("subject", "customer__email", "messages__body")
    raw_id_fields = ("customer", "assignee", "orders", "products")
    inlines = [SupportMessageInline]


@admin.register(ReplyDraft)
class ReplyDraftAdmin(admin.ModelAdmin):
    list_display = ("id", "ticket", "status", "needs_human", "confidence", "model_id", "created_at", "decided_by")
    list_filter = ("status", "needs_human", "prompt_version")
    search_fields = ("text", "final_text", "ticket__subject")
    raw_id_fields = ("ticket", "message", "job", "sent_message", "decided_by")


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    """The reply library: staff add, edit or switch off the replies drafts start from."""

    list_display = ("intent", "short_text", "source", "active", "updated_at")
    list_filter = ("source", "active", "intent")
    search_fields = ("intent", "text", "question")
    readonly_fields = ("from_draft", "created_by", "vector_model", "text_hash", "created_at", "updated_at")
    exclude = ("question_vector", "reply_vector")

    @admin.display(description="reply")
    def short_text(self, obj: ReplyTemplate) -> str:
        return obj.text[:90]


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "tags", "active", "updated_at")
    list_filter = ("active",)
    search_fields = ("title", "body", "tags")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("vector_model", "text_hash")


class ArmInline(admin.TabularInline):
    model = Arm
    extra = 0
    fields = ("name", "is_control", "variant", "segment", "payload", "weight", "position")


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    """Experiments and their arms; results, stopping and rolling out are on the dashboard."""

    list_display = ("name", "kind", "status", "mode", "primary_metric", "started_at", "stopped_at", "winner")
    list_filter = ("kind", "status", "mode")
    search_fields = ("name",)
    raw_id_fields = ("products", "categories")
    readonly_fields = ("allocation", "winner", "started_at", "stopped_at", "salt", "created_by")
    inlines = [ArmInline]


@admin.register(ExperimentExposure)
class ExperimentExposureAdmin(admin.ModelAdmin):
    """One row per visitor and experiment (read-only: written from the exposure buffer and Oscar's signals)."""

    list_display = ("experiment", "arm", "unit", "user", "first_exposed_at", "basket_additions", "orders", "revenue")
    list_filter = ("experiment",)
    raw_id_fields = ("user",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
