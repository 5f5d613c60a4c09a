from rest_framework.pagination import PageNumberPagination


class PortalPagination(PageNumberPagination):
    """Page numbers with a client-chosen size, capped so no request can ask for everything."""

    page_size_query_param = "page_size"
    max_page_size = 200
