"""dataprep: a code repository and its docs in, a grounded, reviewed instruction dataset out."""

__version__ = "0.1.0"
