from django.contrib import admin

from .models import ContentDraft, ContentVersion, CustomerSegment, FeatureSwitch, Interaction, Job, ShopVoice


@admin.register(FeatureSwitch)
class FeatureSwitchAdmin(admin.ModelAdmin):
    list_display = ("feature", "enabled", "auto_publish", "updated_at")
    list_editable = ("enabled", "auto_publish")
    list_display_links = ("feature",)


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
