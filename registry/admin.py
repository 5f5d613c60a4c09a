"""The registry in the admin: browse and search only; changes go through the pages and API."""

from django.contrib import admin

from portal.admin import ReadOnlyAdmin, ReadOnlyInline
from registry.models import Artifact, ModelCard, ModelVersion, RegisteredModel, Tag


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    search_fields = ["name"]


class ModelVersionInline(ReadOnlyInline):
    model = ModelVersion
    fields = ["version", "number", "status", "created_by", "created_at"]


@admin.register(RegisteredModel)
class RegisteredModelAdmin(ReadOnlyAdmin):
    list_display = ["name", "title", "team", "task_type", "updated_at"]
    list_filter = ["team", "task_type"]
    search_fields = ["name", "title", "summary"]
    inlines = [ModelVersionInline]


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["model", "version", "number", "status", "released_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["model__name", "version"]


@admin.register(ModelCard)
class ModelCardAdmin(ReadOnlyAdmin):
    list_display = ["version", "updated_at"]
    search_fields = ["version__model__name"]


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyAdmin):
    list_display = ["version", "status", "size", "sha256", "created_at"]
    list_filter = ["status"]
