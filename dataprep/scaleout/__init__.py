"""Many repositories, one dataset: sources, executors, shards, global dedup and merge
(see runner.py)."""
