"""The FAQ matcher: ranks topics for a free-text question and decides whether to answer.

Every topic is scored the same way from its sample questions, title and keywords (both languages):
concept tokens from the synonyms, English stems, Chinese character uni- and bigrams, weighted by
rarity across topics, plus a rapidfuzz similarity to the closest phrase. Pure and deterministic.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import snowballstemmer
from rapidfuzz import fuzz, process, utils

from bot.knowledge import CONTACT_TOPIC, FaqEntry, Knowledge, cite_all
from bot.redact import strip_identifiers
from bot.textnorm import CJK_RUN, LANGS, Lang, detect_lang, normalize

# Scored ids of the out-of-scope classes (knowledge/out_of_scope.yaml): "oos:tax", …
OUT_OF_SCOPE_PREFIX = "oos:"

# Questions are answered from their first part; nothing useful hides behind 500 characters.
MAX_QUESTION_CHARS = 500


_SENTENCE_END = re.compile(r"[.?!。？！\n]")


def first_part(question: str) -> str:
    """What is matched of a question: all of it, or of a very long one its first sentence."""
    if len(question) <= MAX_QUESTION_CHARS:
        return question
    head = question[:MAX_QUESTION_CHARS]
    end = _SENTENCE_END.search(head)
    return head[: end.end()] if end and end.start() >= 4 else head


@dataclass(frozen=True)
class Tuning:
    """The matcher's knobs, in one place so the benchmark can sweep them."""

    phrase_weight: float = 0.45  # best single phrase overlap (nearest neighbour)
    topic_weight: float = 0.35  # overlap with everything the topic says (centroid)
    fuzz_weight: float = 0.20  # rapidfuzz similarity to the closest phrase
    coverage_power: float = 1.0  # how hard words we have never seen pull the score down
    answer_threshold: float = 0.25  # answer when the best score reaches this…
    answer_margin: float = 0.02  # …and leads the runner-up by this much,
    lone_threshold: float = 0.19  # or reaches this and stands alone:
    lone_ratio: float = 1.5  # this many times the runner-up's score
    anchor_penalty: float = 0.8  # a topic whose anchor concept the question does not name
    intent_penalty: float = 0.75  # a "how" topic for a question that asks only "when", and back
    candidate_threshold: float = 0.16  # below this a topic is not even offered
    candidate_window: float = 0.12  # offer topics within this distance of the best
    max_candidates: int = 3
    unigram_weight: float = 0.35  # a single Chinese character says less than a pair
    typo_cutoff: float = 84.0  # rapidfuzz ratio to accept a known word for an unknown one
    answer_weight: float = 0.5  # the answer text also describes the topic, more loosely
    bigram_coverage: float = 0.15  # how much an unknown Chinese bigram counts against coverage
    bayes_weight: float = 1.0  # how much a naive-Bayes vote between topics reorders them
    bayes_smoothing: float = 0.1


DEFAULT_TUNING = Tuning()


@dataclass(frozen=True)
class Scored:
    """A topic and how well it fits the question (0..1)."""

    id: str
    score: float

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "score": round(self.score, 4)}


@dataclass(frozen=True)
class MatchResult:
    """What the matcher concluded about one question."""

    question: str
    lang: Lang
    answer: Scored | None
    candidates: tuple[Scored, ...]
    coverage: float = 1.0
    out_of_scope: str | None = None  # the out-of-scope group the question is closest to

    def as_json(self) -> dict[str, object]:
        """The `ask --json` contract object (DESIGN.md)."""
        return {
            "question": self.question,
            "lang": self.lang,
            "answer": self.answer.as_json() if self.answer else None,
            "candidates": [c.as_json() for c in self.candidates],
        }


# --- features ------------------------------------------------------------------------------

_STOP_EN = frozenset(
    """a an the i me my mine we our you your he she it its they them their this that these those
    is am are was were be been being do does did doing have has had having will would shall should
    can could may might must of to in on at by for with about from into over after before up down
    out off again then there here why who whom whose all any both each
    some such nor only own same so than too very just but and or if as until while because
    please pls plz hi hello hey thanks thank ok okay yes also get got need want know tell explain
    anyone someone something anything still already ever im i'm dont don't doesnt
    doesn't whats what's hows how's way ways there's let lets let's much many""".split()
)
# Chinese function words and question frames; removed before n-grams so "可以儲存嗎" is "儲存".
_STOP_ZH = sorted(
    """請問 想問 我想 怎麼辦 怎麼樣 為什麼
    哪個 哪 是否 可以 可不可以 能不能 能否 需要 要不要 應該
    一下 一定 的話 的 了 嗎 呢 吧 啊 呀 嘛 喔 哦 啦 我的 我們 我 你
    您 他 她 請 還是 還有 就是 是不是 有沒有 會不會 多少 幾 麻煩 謝謝
    好的 這個 那個 這 那 該 要 在 和 跟 與 及 或 是
    係咪 係唔係 可唔可以 有冇 係 唔 嘅 咗 喺 啲 嗰 嚟 㗎 喇 囉 咁 噉 佢 俾 呀 嘞""".split(),
    key=len,
    reverse=True,
)
_STOP_ZH_RE = re.compile("|".join(map(re.escape, _STOP_ZH)))
_CONCEPT = re.compile(r"⟦([a-z0-9_]+)⟧")
_SCRIPT_BOUNDARY = re.compile(
    r"(?<=[\u3400-\u9fff\uf900-\ufaff])(?=[a-z0-9])|(?<=[a-z0-9])(?=[\u3400-\u9fff\uf900-\ufaff])"
)
_TOKEN = re.compile(r"⟦[a-z0-9_]+⟧|[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9$][a-z0-9$.,'/+@:-]*")
_NUMBERISH = re.compile(r"^[0-9$.,/:+-]+$")

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word.strip(".,'/:+-"))


def _fold_greedy(
    units: Sequence[str],
    longest: Callable[[Any, int], tuple[str, int] | None],
    separator: str,
) -> str:
    """Replace the longest synonym term starting at each unit (character or word) by its token."""
    out: list[str] = []
    i = 0
    while i < len(units):
        found = longest(units, i)
        if found is None:
            out.append(units[i])
            i += 1
        else:
            out.append(f" ⟦{found[0]}⟧ ")
            i += found[1]
    return separator.join(out)


class _Vocabulary:
    """Folds synonyms to concept tokens and turns normalised text into weighted features."""

    def __init__(self, groups: Iterable[tuple[str, Iterable[str]]]) -> None:
        cjk_terms: dict[str, str] = {}
        latin_terms: dict[str, str] = {}
        self.word_concepts: dict[str, str] = {}  # single English word stem -> concept
        self.word_terms: list[str] = []  # the single English words of the synonyms
        for concept, terms in groups:
            for term in terms:
                key = normalize(term)
                if not key:
                    continue
                if CJK_RUN.search(key):
                    cjk_terms[key] = concept
                elif " " in key or "-" in key:
                    latin_terms[key] = concept
                    latin_terms[key.replace("-", " ")] = concept
                else:
                    latin_terms[key] = concept
                    self.word_concepts.setdefault(_stem(key), concept)
                    self.word_terms.append(key)
        # Greedy longest-match tables (a regex alternation of 500 terms is 20x slower).
        self._cjk_terms = cjk_terms  # any term with Chinese in it, "pdf檔" and "30分鐘" too
        self._cjk_lengths: dict[str, list[int]] = defaultdict(list)
        for term in sorted(cjk_terms, key=len, reverse=True):
            if len(term) not in self._cjk_lengths[term[0]]:
                self._cjk_lengths[term[0]].append(len(term))
        self._latin_terms = latin_terms
        self._max_words = max((len(t.split()) for t in latin_terms), default=1)
        self.known: set[str] = set()  # every feature seen in the content
        self._known_words: list[str] = []  # words of the content, for typo correction
        self._seen_words: set[str] = set()

    def fold(self, text: str) -> str:
        """Normalised text with every synonym term replaced by its concept token."""
        return self._fold_latin(_SCRIPT_BOUNDARY.sub(" ", self._fold_cjk(text)))

    def _fold_cjk(self, text: str) -> str:
        return _fold_greedy(text, self._longest_cjk_term, "")

    def _longest_cjk_term(self, text: str, i: int) -> tuple[str, int] | None:
        # A term starting with a letter ("pdf檔") must start a word, not end one.
        if text[i].isascii() and i and text[i - 1].isalnum():
            return None
        for length in self._cjk_lengths.get(text[i], ()):
            concept = self._cjk_terms.get(text[i : i + length])
            if concept is not None:
                return concept, length
        return None

    def _fold_latin(self, text: str) -> str:
        return _fold_greedy(text.split(), self._longest_latin_term, " ")

    def _longest_latin_term(self, words: list[str], i: int) -> tuple[str, int] | None:
        for n in range(min(self._max_words, len(words) - i), 0, -1):
            concept = self._latin_terms.get(" ".join(words[i : i + n]))
            if concept is not None:
                return concept, n
        return None

    def learn(self, features: Iterable[str]) -> None:
        self.known.update(features)

    def freeze(self) -> None:
        self._known_words = sorted(self._seen_words | set(self.word_terms))

    def features(self, folded: str, tuning: Tuning, *, correct: bool) -> Counter[str]:
        """Weighted features of folded text: concepts, English stems, Chinese 1- and 2-grams."""
        feats: Counter[str] = Counter()
        for token in _TOKEN.findall(folded):
            if token.startswith("⟦"):
                feats["#" + token[1:-1]] = 1.0
            elif CJK_RUN.match(token):
                for run in _STOP_ZH_RE.sub(" ", token).split():
                    for ch in run:
                        feats["u:" + ch] = max(feats["u:" + ch], tuning.unigram_weight)
                    for a, b in itertools.pairwise(run):
                        feats["b:" + a + b] = 1.0
            else:
                for feature in self._word_feature(token, tuning, correct=correct):
                    feats[feature] = 1.0  # presence, not count: "blah blah blah" is one word
        return feats

    def _word_feature(self, word: str, tuning: Tuning, *, correct: bool) -> Iterator[str]:
        if word in _STOP_EN or (len(word) == 1 and not word.isdigit()):
            return
        if _NUMBERISH.match(word):
            yield "n:" + word.replace(",", "").strip("$.")
            return
        feature = self._feature_of(word)
        if not correct:
            self._seen_words.add(word)
        elif feature not in self.known and len(word) >= 5 and self._known_words:
            # A typo ("pasport", "renwal") is closer to a word of ours than anything else is;
            # short words are left alone: "bank" is not a typo of "blank".
            best = process.extractOne(
                word, self._known_words, scorer=fuzz.ratio, score_cutoff=tuning.typo_cutoff
            )
            if best is not None:
                feature = self._feature_of(best[0])
        yield feature

    def _feature_of(self, word: str) -> str:
        stem = _stem(word)
        concept = self.word_concepts.get(stem)
        return "#" + concept if concept else "w:" + stem


# --- the index -----------------------------------------------------------------------------


@dataclass
class _Phrase:
    topic: str
    text: str  # folded, for rapidfuzz
    features: dict[str, float]
    norm: float = 0.0  # sum of idf weights


def _phrases_of(entry: FaqEntry) -> Iterator[str]:
    for lang in LANGS:
        yield entry.title[lang]
        yield from entry.questions[lang]
        yield from entry.keywords[lang]


class Matcher:
    """Ranks FAQ topics for questions; build once per Knowledge, then call `match`."""

    def __init__(
        self,
        knowledge: Knowledge,
        tuning: Tuning = DEFAULT_TUNING,
        learned: Iterable[tuple[str, str]] = (),
    ) -> None:
        """`learned`: (topic id or `oos:<group>`, question) pairs staff taught from the inbox
        (`bot.learning`), sample questions like the content's; unknown ids are left out."""
        self.knowledge = knowledge
        self.tuning = tuning
        self.vocab = _Vocabulary((g.id, g.terms()) for g in knowledge.synonyms)
        self._phrases: list[_Phrase] = []
        raw: dict[str, list[Counter[str]]] = defaultdict(list)

        def add_phrase(topic_id: str, text: str) -> None:
            folded = self.vocab.fold(normalize(text))
            feats = self.vocab.features(folded, tuning, correct=False)
            if feats:
                raw[topic_id].append(feats)
                self._phrases.append(_Phrase(topic_id, _fuzz_text(folded), dict(feats)))
                self.vocab.learn(feats)

        for entry in knowledge.faq.values():
            for text in _phrases_of(entry):
                add_phrase(entry.id, text)
        # Out-of-scope questions are a class of their own: a question closest to them is declined.
        for group in knowledge.out_of_scope:
            for lang in LANGS:
                for text in group.questions[lang]:
                    add_phrase(OUT_OF_SCOPE_PREFIX + group.id, text)
        for topic_id, text in learned:
            if topic_id in raw:  # a topic or out-of-scope class the content still has
                add_phrase(topic_id, text)
        answers: dict[str, Counter[str]] = defaultdict(Counter)
        for entry in knowledge.faq.values():
            text = " ".join(entry.answer[lang] for lang in LANGS)
            answers[entry.id] = self.vocab.features(self.vocab.fold(normalize(text)), tuning,
                                                    correct=False)  # fmt: skip
            self.vocab.learn(answers[entry.id])
        self.vocab.freeze()

        n_topics = max(len(raw), 1)
        df: Counter[str] = Counter()
        for topic_id, feats_list in raw.items():
            df.update({f for feats in feats_list for f in feats} | set(answers[topic_id]))
        self.idf = {f: math.log(1 + n_topics / d) for f, d in df.items()}
        self.unknown_idf = math.log(1 + n_topics)  # an unseen feature is as rare as it gets

        # Inverted indexes, so a question only touches the phrases and topics it shares
        # features with: feature -> [(phrase index, weight)], feature -> {topic: weight × idf}.
        self._phrase_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, phrase in enumerate(self._phrases):
            phrase.norm = sum(w * self.idf[f] for f, w in phrase.features.items())
            for f, w in phrase.features.items():
                self._phrase_index[f].append((i, w))
        self._topic_index: dict[str, dict[str, float]] = defaultdict(dict)
        self._topic_norms: dict[str, float] = {}
        # Naive Bayes over the same features tells neighbouring topics apart: a word that one
        # topic uses often and its neighbour rarely decides between them.
        alpha, vocab_size = tuning.bayes_smoothing, len(self.idf)
        self._log_p: dict[str, dict[str, float]] = {}
        self._log_unseen: dict[str, float] = {}
        for topic_id, feats_list in raw.items():
            tf: Counter[str] = Counter()
            for feats in feats_list:
                tf.update(feats)
            for f in answers[topic_id]:
                tf[f] += tuning.answer_weight
            vector = {f: math.log(1 + c) * self.idf[f] for f, c in tf.items()}
            for f, w in vector.items():
                self._topic_index[f][topic_id] = w
            self._topic_norms[topic_id] = _l2(vector.values())
            total = sum(tf.values()) + alpha * vocab_size
            self._log_unseen[topic_id] = math.log(alpha / total)
            self._log_p[topic_id] = {f: math.log((c + alpha) / total) for f, c in tf.items()}
        self._anchors = {e.id: "#" + e.anchor for e in knowledge.faq.values() if e.anchor}
        self._intents = {e.id: e.intent for e in knowledge.faq.values() if e.intent}
        # Ties are broken by topic id, so that equal scores rank the same way every time.
        self._tie_order = {tid: -i for i, tid in enumerate(sorted(self._topic_norms))}
        # token_sort_ratio is ratio over sorted tokens: sort each phrase's tokens once, here.
        self._fuzz_choices = [_sorted_tokens(p.text) for p in self._phrases]

    # -- scoring --

    def score_all(
        self, question: str, *, coverage_power: float | None = None
    ) -> tuple[list[Scored], float]:
        """Every topic's score for the question (unsorted) and the question's coverage.

        `coverage_power` overrides the tuning's: a story around a question is full of words the
        content never uses, and they should count against it less than in a short question.
        """
        folded = self.vocab.fold(normalize(strip_identifiers(first_part(question))))
        feats = self.vocab.features(folded, self.tuning, correct=True)
        if not feats:
            return [], 0.0
        weights = {f: w * self.idf.get(f, self.unknown_idf) for f, w in feats.items()}
        # Coverage: how much of the question the content knows at all. Chinese bigrams count
        # for little: a sentence's bigrams straddle word boundaries, and those are unknown
        # however on-topic it is ("系統提示我" has 統提, 示我).
        judged = {
            f: w * self.tuning.bigram_coverage if f.startswith("b:") else w
            for f, w in weights.items()
        }
        known = sum(w for f, w in judged.items() if f in self.idf)
        coverage = known / sum(judged.values()) if judged else 0.0
        if known == 0:
            return [], 0.0
        total = sum(w for f, w in weights.items() if f in self.idf)

        shared: dict[int, float] = defaultdict(float)
        for f, w in feats.items():
            idf = self.idf.get(f, 0.0)
            for index, weight in self._phrase_index.get(f, ()):
                shared[index] += min(w, weight) * idf
        best_phrase: dict[str, float] = defaultdict(float)
        for index, overlap in shared.items():
            phrase = self._phrases[index]
            dice = 2 * overlap / (total + phrase.norm)
            if dice > best_phrase[phrase.topic]:
                best_phrase[phrase.topic] = dice

        best_fuzz: dict[str, float] = defaultdict(float)
        query_text = _sorted_tokens(_fuzz_text(folded))
        for _, similarity, index in process.extract(
            query_text, self._fuzz_choices, scorer=fuzz.ratio, limit=None, score_cutoff=40
        ):
            topic = self._phrases[index].topic
            best_fuzz[topic] = max(best_fuzz[topic], similarity / 100)

        q_norm = _l2(weights.values())
        t = self.tuning
        power = t.coverage_power if coverage_power is None else coverage_power
        posterior = self._bayes_posterior({f: w for f, w in feats.items() if f in self.idf})
        dots: dict[str, float] = defaultdict(float)
        for f, w in weights.items():
            for topic_id, weight in self._topic_index.get(f, {}).items():
                dots[topic_id] += w * weight
        asked = _asked_intents(feats)
        scores = []
        for topic_id, topic_norm in self._topic_norms.items():
            raw_score = (
                t.phrase_weight * best_phrase.get(topic_id, 0.0)
                + t.topic_weight * dots.get(topic_id, 0.0) / (q_norm * topic_norm)
                + t.fuzz_weight * best_fuzz.get(topic_id, 0.0)
            )
            vote = (1 + t.bayes_weight * posterior[topic_id]) / (1 + t.bayes_weight)
            anchor = self._anchors.get(topic_id)
            if anchor is not None and anchor not in feats:
                raw_score *= t.anchor_penalty  # "expedite Hong Kong…" without "renew"
            intent = self._intents.get(topic_id)
            if intent is not None and len(asked) == 1 and intent not in asked:
                raw_score *= t.intent_penalty  # "how do I renew" is not "when can I renew"
            scores.append(Scored(topic_id, raw_score * vote * coverage**power))
        return scores, coverage

    def _bayes_posterior(self, feats: dict[str, float]) -> dict[str, float]:
        """P(topic | features) under naive Bayes with a uniform prior."""
        logs = {
            topic_id: sum(w * log_p.get(f, self._log_unseen[topic_id]) for f, w in feats.items())
            for topic_id, log_p in self._log_p.items()
        }
        top = max(logs.values(), default=0.0)
        exp = {topic_id: math.exp(v - top) for topic_id, v in logs.items()}
        total = sum(exp.values()) or 1.0
        return {topic_id: v / total for topic_id, v in exp.items()}

    def rank(self, question: str, k: int = 5) -> list[Scored]:
        """The k best topics, best first; ties broken by id so results are deterministic."""
        scores, _ = self.score_all(question)
        topics = (s for s in scores if not s.id.startswith(OUT_OF_SCOPE_PREFIX))
        return heapq.nlargest(k, topics, key=self._rank_key)

    def _rank_key(self, scored: Scored) -> tuple[float, int]:
        return scored.score, self._tie_order[scored.id]

    def match(self, question: str, *, coverage_power: float | None = None) -> MatchResult:
        """Rank, then gate: answer, offer close candidates, or decline."""
        t = self.tuning
        lang = detect_lang(question)
        scores, coverage = self.score_all(question, coverage_power=coverage_power)
        ranked = heapq.nlargest(t.max_candidates + 2, scores, key=self._rank_key)
        declined = next((s.id for s in ranked[:1] if s.id.startswith(OUT_OF_SCOPE_PREFIX)), None)
        top = [s for s in ranked if not s.id.startswith(OUT_OF_SCOPE_PREFIX)]
        if declined is not None and ranked[0].score >= t.candidate_threshold:
            # Closest to a question the tutorials do not answer: decline, but still show the
            # topics that come close, for the odd question that is about the card after all.
            group = declined.removeprefix(OUT_OF_SCOPE_PREFIX)
            candidates = tuple(s for s in top[: t.max_candidates] if s.score >= t.answer_threshold)
            return MatchResult(question, lang, None, candidates, coverage, out_of_scope=group)
        if not top or top[0].score < t.candidate_threshold:
            return MatchResult(question, lang, None, (), coverage)
        best = top[0]
        runner_up = top[1].score if len(top) > 1 else 0.0
        candidates = tuple(
            s
            for s in top[: t.max_candidates]
            if s.score >= t.candidate_threshold and best.score - s.score <= t.candidate_window
        )
        confident = (
            best.score >= t.answer_threshold and best.score - runner_up >= t.answer_margin
        ) or (best.score >= t.lone_threshold and best.score >= t.lone_ratio * runner_up)
        return MatchResult(question, lang, best if confident else None, candidates, coverage)


# The concepts of synonyms.yaml that say what a question asks for: the steps, or a time.
_INTENT_CONCEPTS = {
    "#ask_how": "how",
    "#ask_when": "when",
    "#deadline": "when",
    "#duration": "when",
}


def _asked_intents(feats: Counter[str]) -> set[str]:
    """ "how", "when", both or neither, by the intent concepts the question names."""
    return {intent for concept, intent in _INTENT_CONCEPTS.items() if concept in feats}


def _fuzz_text(folded: str) -> str:
    # Concept tokens become plain words so token scorers see them; CJK is spaced per character
    # because token scorers need separators and Chinese has none.
    text = _CONCEPT.sub(lambda m: f" {m.group(1)} ", folded)
    text = CJK_RUN.sub(lambda m: " ".join(m.group(0)), text)
    return utils.default_process(text)


def _sorted_tokens(text: str) -> str:
    return " ".join(sorted(text.split()))


def _l2(values: Iterable[float]) -> float:
    return math.sqrt(sum(v * v for v in values)) or 1.0


# --- plain-text rendering for the CLI ------------------------------------------------------


def render_answer_text(knowledge: Knowledge, result: MatchResult) -> str:
    """The reply as plain text in the question's language (the chat renders its own HTML)."""
    lang = result.lang
    if result.answer is not None:
        return render_entry_text(knowledge.faq[result.answer.id], lang)
    contact = knowledge.faq[CONTACT_TOPIC].answer[lang].strip()
    if result.candidates:
        titles = "\n".join(
            f"• {knowledge.faq[c.id].title[lang]}  (start=t_{c.id})" for c in result.candidates
        )
        if lang == "zh":
            return f"您是想問以下哪一個？\n{titles}\n\n都不是的話，歡迎聯絡金卡辦公室：\n{contact}"
        return (
            f"Did you mean one of these?\n{titles}\n\n"
            f"If none fits, the help desk can help:\n{contact}"
        )
    if lang == "zh":
        return f"抱歉，這個問題我無法確定答案。建議您直接聯絡台灣就業金卡辦公室：\n{contact}"
    return (
        "Sorry, I don't know the answer to that one. The Taiwan Gold Card Office can help:\n"
        f"{contact}"
    )


def render_entry_text(entry: FaqEntry, lang: Lang) -> str:
    """One FAQ answer with its source and links, as plain text."""
    lines = [entry.title[lang], "", entry.answer[lang].strip()]
    if entry.links:
        lines += ["", "連結：" if lang == "zh" else "Links:"]
        lines += [f"• {link.title[lang]}: {link.url}" for link in entry.links]
    sources = cite_all(entry.source, lang)
    lines += ["", f"資料來源：{sources}" if lang == "zh" else f"Source: {sources}"]
    return "\n".join(lines)
