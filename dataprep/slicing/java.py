"""Moved to dataprep.languages.java.slicer. This name stays only until
tests/test_templates.py (being reworked by another change) imports from there."""

from dataprep.languages.java.slicer import slice_java  # noqa: F401
