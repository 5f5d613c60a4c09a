from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.roles import roles_of


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    teams = serializers.ListField(child=serializers.SlugField())


class MeView(APIView):
    """Who the caller is: handy to check a token."""

    @extend_schema(responses=MeSerializer, summary="The authenticated person")
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "username": user.get_username(),
            "full_name": user.get_full_name(),  # type: ignore[union-attr]
            "roles": sorted(roles_of(user)),
            "teams": list(user.teams.values_list("slug", flat=True)),  # type: ignore[union-attr]
        }
        return Response(MeSerializer(data).data)
