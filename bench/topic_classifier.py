"""A trained topic classifier, measured against the matcher by bench/classifier.py (not used by
the bot: scikit-learn is a test/bench extra; README: The matcher).

Trained at construction, in well under a second, from every topic's sample questions, title and
keywords in both languages, plus the out-of-scope examples (`knowledge.out_of_scope`, when the
content has them) as one more class, ``__oos__``. Two TF-IDF views of a question feed one linear
model: character 1-4-grams of the normalised text (Chinese has no spaces, and they absorb typos
and inflections), and the matcher's own features of the synonym-folded text (concept tokens that
merge 延期/續簽/renew, English stems, Chinese character 1- and 2-grams). The model is a linear SVM
whose scores are calibrated into probabilities (Platt scaling over 3 folds). Deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from bot.knowledge import Knowledge
from bot.matching import OUT_OF_SCOPE_PREFIX, Matcher, first_part
from bot.redact import strip_identifiers
from bot.textnorm import LANGS, normalize

OOS = "__oos__"

# Chosen on the two dev files by bench/classifier.py's sweep, never on the holdout or the folds.
# Alone: answer the most probable topic when it beats the out-of-scope class (a higher floor
# only loses right answers; the __oos__ class does the declining).
ANSWER_THRESHOLD = 0.05
# Combined with the matcher: score = 0.7 * matcher score + 0.3 * probability, per topic.
BLEND_WEIGHT = 0.7
BLEND_THRESHOLD = 0.3


def training_data(knowledge: Knowledge) -> tuple[list[str], list[str]]:
    """(text, label) pairs: every topic's phrases in both languages, then out-of-scope examples."""
    texts: list[str] = []
    labels: list[str] = []
    for entry in knowledge.faq.values():
        for lang in LANGS:
            phrases = (entry.title[lang], *entry.questions[lang], *entry.keywords[lang])
            texts += phrases
            labels += [entry.id] * len(phrases)
    for question in out_of_scope_questions(knowledge):
        texts.append(question)
        labels.append(OOS)
    return texts, labels


def out_of_scope_questions(knowledge: Knowledge) -> Iterator[str]:
    """The negative examples of `knowledge.out_of_scope`, both languages."""
    for group in knowledge.out_of_scope:
        yield from group.questions.all()


def blend(
    scores: dict[str, float],
    probs: dict[str, float],
    weight: float = BLEND_WEIGHT,
    threshold: float = BLEND_THRESHOLD,
) -> tuple[str | None, list[tuple[str, float]]]:
    """Matcher scores and classifier probabilities of the topics, blended: (answer, ranking).

    The best blended topic is answered when its blend reaches `threshold` and its probability
    beats P(__oos__); the ranking (best first, ties by id) serves as did-you-mean candidates.
    """
    ranked = sorted(
        (
            (tid, weight * scores.get(tid, 0.0) + (1 - weight) * probs.get(tid, 0.0))
            for tid in scores.keys() | probs.keys()
            if tid != OOS
        ),
        key=lambda c: (-c[1], c[0]),
    )
    if not ranked:
        return None, []
    top, value = ranked[0]
    if value < threshold or probs.get(OOS, 0.0) >= probs.get(top, 0.0):
        return None, ranked
    return top, ranked


class TopicClassifier:
    """Ranks FAQ topics with calibrated probabilities; build once per Knowledge."""

    def __init__(
        self,
        knowledge: Knowledge,
        matcher: Matcher | None = None,
        *,
        c: float = 0.5,
        answer_threshold: float = ANSWER_THRESHOLD,
    ) -> None:
        self.knowledge = knowledge
        self.matcher = matcher if matcher is not None else Matcher(knowledge)
        self.answer_threshold = answer_threshold
        texts, labels = training_data(knowledge)
        self.features = FeatureUnion(
            [
                (
                    "chars",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=(1, 4), lowercase=False, sublinear_tf=True
                    ),
                ),
                ("words", TfidfVectorizer(analyzer=self._words, sublinear_tf=True)),
            ]
        )
        x = self.features.fit_transform([self._prepare(t) for t in texts])
        # One SVM on all the data, its scores Platt-scaled per class from 3-fold predictions.
        svm = LinearSVC(C=c, class_weight="balanced", random_state=0)
        self.model = CalibratedClassifierCV(svm, method="sigmoid", cv=3, ensemble=False)
        self.model.fit(x, labels)
        self.classes: list[str] = [str(c) for c in self.model.classes_]
        self._compile()

    def _compile(self) -> None:
        """Pull out the fitted numbers so one question costs microseconds, not sklearn calls."""
        self._views = []
        offset = 0
        for _, vectorizer in self.features.transformer_list:
            analyzer = vectorizer.build_analyzer()
            self._views.append((analyzer, vectorizer.vocabulary_, vectorizer.idf_, offset))
            offset += len(vectorizer.vocabulary_)
        (calibrated,) = self.model.calibrated_classifiers_
        linear = calibrated.estimator
        self._a = np.array([cal.a_ for cal in calibrated.calibrators])
        self._b = np.array([cal.b_ for cal in calibrated.calibrators])
        self._coef_t = np.ascontiguousarray(linear.coef_.T)  # features x classes
        self._intercept = np.asarray(linear.intercept_, dtype=float)

    # -- features --

    @staticmethod
    def _prepare(text: str) -> str:
        return normalize(strip_identifiers(first_part(text)))

    def _words(self, normalised: str) -> list[str]:
        """The matcher's features of the synonym-folded text (concepts, stems, CJK 1-/2-grams)."""
        vocab = self.matcher.vocab
        return list(vocab.features(vocab.fold(normalised), self.matcher.tuning, correct=True))

    # -- prediction --

    def probabilities(self, question: str) -> dict[str, float]:
        """P(class | question) for every topic and ``__oos__``; empty if nothing is readable."""
        probs = self._proba(self._prepare(question))
        if probs is None:
            return {}
        return dict(zip(self.classes, probs.tolist(), strict=True))

    def _proba(self, text: str) -> np.ndarray | None:
        """Same numbers as ``model.predict_proba(features.transform([text]))[0]``, 50x faster."""
        indices: list[int] = []
        weights: list[float] = []
        for analyzer, vocabulary, idf, offset in self._views:
            counts: dict[int, int] = {}
            for term in analyzer(text):
                j = vocabulary.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            cols = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=float, count=len(counts))
            w = (1.0 + np.log(tf)) * idf[cols]
            w /= np.linalg.norm(w)
            indices += (cols + offset).tolist()
            weights += w.tolist()
        if not indices:
            return None
        decision = np.asarray(weights) @ self._coef_t[indices] + self._intercept
        proba = expit(-(self._a * decision + self._b))  # each class's sigmoid, then normalised
        total = proba.sum()
        return proba / total if total > 0 else np.full(len(proba), 1.0 / len(proba))

    def rank(self, question: str, k: int = 5) -> list[tuple[str, float]]:
        """The k most probable topics (``__oos__`` left out), best first; ties by id."""
        probs = self.probabilities(question)
        ranked = sorted(
            ((tid, p) for tid, p in probs.items() if tid != OOS), key=lambda c: (-c[1], c[0])
        )
        return ranked[:k]

    def combined(self, question: str) -> tuple[str | None, list[tuple[str, float]]]:
        """The matcher and the classifier blended (see `blend`): (answer or None, ranking)."""
        scored, _ = self.matcher.score_all(question)
        scores = {s.id: s.score for s in scored if not s.id.startswith(OUT_OF_SCOPE_PREFIX)}
        return blend(scores, self.probabilities(question))

    def predict(self, question: str) -> tuple[str | None, float, float]:
        """(topic to answer or None, its probability, the out-of-scope probability)."""
        probs = self.probabilities(question)
        if not probs:
            return None, 0.0, 1.0
        oos = probs.get(OOS, 0.0)
        best, p = min(
            ((tid, p) for tid, p in probs.items() if tid != OOS), key=lambda c: (-c[1], c[0])
        )
        if p < self.answer_threshold or oos >= p:
            return None, p, oos
        return best, p, oos
