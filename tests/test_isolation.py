"""The test set-up itself: a home of its own per test, the model cache outside it."""

import os
import pwd
from pathlib import Path

import pytest
from conftest import model_cache

HOMES: list[str] = []


def test_home_is_a_temporary_folder_not_the_users():
    home = os.environ["HOME"]
    assert home != pwd.getpwuid(os.getuid()).pw_dir and Path(home).is_dir()
    assert Path(home).expanduser() == Path.home() and os.environ["HF_HOME"].startswith(home)
    HOMES.append(home)


def test_each_test_gets_its_own_home():
    HOMES.append(os.environ["HOME"])
    assert len(set(HOMES)) == len(HOMES)


def test_the_model_cache_is_shared_and_outside_home():
    cache = Path(os.environ["DATAPREP_CACHE_DIR"])
    assert cache == model_cache() and not cache.is_relative_to(os.environ["HOME"])


@pytest.fixture(scope="session")
def session_home() -> str:
    return os.environ["HOME"]  # what session fixtures (hotel_run...) see when they run


def test_session_fixtures_run_under_a_home_of_their_own(session_home):
    assert session_home != pwd.getpwuid(os.getuid()).pw_dir
    assert session_home != os.environ["HOME"]  # and each test has another
