"""API existence and package overviews (placeholder until built)."""
