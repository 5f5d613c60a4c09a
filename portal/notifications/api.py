"""The notifications API: list mine, mark read."""
