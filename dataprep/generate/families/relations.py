"""Relations across files (placeholder until built)."""
