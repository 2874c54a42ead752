"""Many repositories, one dataset: work items on datatrove's executors (see runner.py)."""
