"""The trained topic classifier (bench/topic_classifier.py): deterministic, ranks, declines."""

from __future__ import annotations

import numpy as np
import pytest

from bench.topic_classifier import OOS, TopicClassifier, blend
from bot.knowledge import Knowledge
from bot.matching import Matcher


@pytest.fixture(scope="module")
def classifier(knowledge: Knowledge, matcher: Matcher) -> TopicClassifier:
    return TopicClassifier(knowledge, matcher)


def test_trains_deterministically(knowledge, matcher, classifier):
    # Training time is measured by bench/classifier.py, not asserted here (a loaded CI machine).
    again = TopicClassifier(knowledge, matcher)
    question = "how do I renew my gold card"
    assert again.probabilities(question) == classifier.probabilities(question)


def test_fast_path_equals_scikit_learn(classifier):
    for question in ("金卡要怎麼延期", "I forgot my password", "台北哪裡有好吃的"):
        text = classifier._prepare(question)
        expected = classifier.model.predict_proba(classifier.features.transform([text]))[0]
        got = np.array(list(classifier.probabilities(question).values()))
        assert np.allclose(got, expected)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("I forgot my password", "login-lockout-password"),
        ("帳號被鎖定", "login-lockout-password"),
        ("is the fee refundable", "fees-and-refunds"),
        ("退費", "fees-and-refunds"),
        ("我搬家了要改地址", "address-change"),
        ("I moved, how do I update my address", "address-change"),
    ],
)
def test_ranks_an_obvious_question_first_in_both_languages(classifier, question, topic):
    ranked = classifier.rank(question, 3)
    assert ranked[0][0] == topic
    assert ranked[0][1] >= ranked[1][1] >= ranked[2][1]
    assert classifier.predict(question)[0] == topic
    assert classifier.combined(question)[0] == topic


def test_probabilities_sum_to_one_and_rank_leaves_out_the_oos_class(classifier):
    probs = classifier.probabilities("金卡是什麼")
    assert sum(probs.values()) == pytest.approx(1.0)
    assert all(tid != OOS for tid, _ in classifier.rank("金卡是什麼", 100))


def test_out_of_scope_class_declines(knowledge, classifier):
    if not getattr(knowledge, "out_of_scope", ()):
        pytest.skip("knowledge has no out-of-scope examples")
    assert OOS in classifier.classes
    group = knowledge.out_of_scope[0]
    question = group.questions.en[0]  # a training example: P(__oos__) must win it
    topic, p, oos = classifier.predict(question)
    assert topic is None
    assert oos > p


@pytest.mark.parametrize("question", ["", "???", "🙂🙂🙂"])
def test_nothing_readable_is_declined(classifier, question):
    assert classifier.rank(question) == []
    assert classifier.predict(question) == (None, 0.0, 1.0)


def test_blend_rule():
    scores = {"a": 0.5, "b": 0.2}
    answer, ranked = blend(scores, {"a": 0.6, "b": 0.3, OOS: 0.1})
    assert answer == "a"
    assert [tid for tid, _ in ranked] == ["a", "b"]
    assert ranked[0][1] == pytest.approx(0.7 * 0.5 + 0.3 * 0.6)
    assert blend(scores, {"a": 0.3, "b": 0.1, OOS: 0.6})[0] is None  # out of scope wins
    assert blend({"a": 0.1}, {"a": 0.4})[0] is None  # 0.19 < 0.3
