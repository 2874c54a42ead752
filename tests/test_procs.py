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
