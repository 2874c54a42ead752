"""Process-level helpers (dataprep.procs)."""

import gc

import pytest

from dataprep import procs


def test_fewer_collections_raises_the_threshold_and_gives_it_back_even_on_error():
    before = gc.get_threshold()
    with procs.fewer_collections():
        assert gc.get_threshold()[0] == 50_000 > before[0]
    assert gc.get_threshold() == before
    with pytest.raises(KeyError), procs.fewer_collections():
        raise KeyError("x")
    assert gc.get_threshold() == before


def test_a_freezing_block_freezes_what_outlives_each_stage_and_thaws_it_all_at_the_end():
    assert gc.get_freeze_count() == 0
    with pytest.raises(KeyError), procs.fewer_collections(freeze=True):
        kept = [[] for _ in range(100)]
        procs.give_back_memory()  # a stage ends: its survivors are frozen
        assert gc.get_freeze_count() >= len(kept)
        with procs.fewer_collections(freeze=True):  # nested: the outer block owns the freeze
            pass
        assert gc.get_freeze_count() >= len(kept)
        raise KeyError("x")
    assert gc.get_freeze_count() == 0  # thawed, even on error
    procs.give_back_memory()  # outside the block nothing is frozen
    assert gc.get_freeze_count() == 0


def test_a_freezing_block_leaves_a_freeze_made_before_it_alone():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with procs.fewer_collections(freeze=True):
            procs.give_back_memory()
            # not its own: it adds none (a frozen object freed by its count leaves it)
            assert gc.get_freeze_count() <= frozen
        assert gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
