from django.contrib import admin

from registry.models import Artifact, ModelCard, ModelVersion, RegisteredModel, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    fields = ["version", "number", "status", "created_by", "created_at"]
    readonly_fields = ["version", "number", "status", "created_by", "created_at"]
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "team", "task_type", "updated_at"]
    list_filter = ["team", "task_type"]
    search_fields = ["name", "title", "summary"]
    autocomplete_fields = ["tags"]
    readonly_fields = ["created_by", "updated_by", "created_at", "updated_at"]
    inlines = [ModelVersionInline]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """Status is read-only here: it changes through the services (and releases) only."""

    list_display = ["model", "version", "number", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["model__name", "version"]
    readonly_fields = ["model", "version", "number", "sort_key", "status", "created_by"]


@admin.register(ModelCard)
class ModelCardAdmin(admin.ModelAdmin):
    list_display = ["version", "updated_at"]
    search_fields = ["version__model__name"]
    readonly_fields = ["version", "updated_by"]


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ["version", "status", "size", "sha256", "created_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in Artifact._meta.fields]
