"""Registry pages, one module per page family."""
