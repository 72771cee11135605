"""The admin's preview and self-test pages read seed lists from the query string: anything a person (or a
crafted link) puts there gives a list of seeds, never a 500."""
from __future__ import annotations

import pytest

from quizbank.admin import PREVIEW_SEEDS, parse_seed_list


@pytest.mark.parametrize("raw", ["²", "--5", "٣", "9" * 5000, "1e3", ",,,", "-"])
def test_a_seed_list_with_nothing_readable_falls_back_to_the_default_seeds(raw):
    assert parse_seed_list(raw) == list(PREVIEW_SEEDS)


def test_readable_seeds_are_kept_and_unreadable_ones_skipped():
    assert parse_seed_list("3, 7,²,-2") == [3, 7, -2]
