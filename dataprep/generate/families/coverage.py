"""Tests and the methods they cover (matched by name): which tests cover a method, and
the tests to write for a method. The matching lives in dataprep.generate.templates."""

from __future__ import annotations

from dataprep.generate.families import RepoView, family


@family("tests", "test_code")
def coverage(repo: RepoView, tasks: dict, seed: int) -> list:
    from dataprep.generate.templates import coverage_candidates

    return coverage_candidates(repo.units, seed, tasks, module_of=repo.module_of)
