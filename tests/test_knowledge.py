"""Content validation: the real knowledge base is clean, and each kind of mistake is reported."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from bot.__main__ import main
from bot.knowledge import KNOWLEDGE_DIR, TUTORIALS, check_knowledge
from tests.conftest import FIXTURES, SHARED


def test_real_knowledge_has_no_problems():
    knowledge, problems = check_knowledge()
    assert [str(p) for p in problems] == []
    assert knowledge is not None


def test_every_contract_topic_has_an_entry(knowledge):
    contract = yaml.safe_load((KNOWLEDGE_DIR / "topics.yaml").read_text(encoding="utf-8"))
    ids = {t["id"] for t in contract["topics"]}
    assert ids - set(knowledge.faq) == set()


def _must_say_literals(fact: str) -> list[str]:
    """URLs, emails and phone numbers in a must_say fact: they must appear verbatim."""
    return re.findall(r"https?://\S+|[\w.]+@[\w.]+\w|\+886-[\d-]+", fact)


@pytest.mark.parametrize(
    "topic",
    yaml.safe_load((KNOWLEDGE_DIR / "topics.yaml").read_text(encoding="utf-8"))["topics"],
    ids=lambda t: t["id"],
)
def test_answers_carry_the_contract_literals(knowledge, topic):
    entry = knowledge.faq[topic["id"]]
    for fact in topic["must_say"]:
        for literal in _must_say_literals(fact):
            literal = literal.rstrip(").,")
            for lang in ("zh", "en"):
                text = entry.answer[lang] + " ".join(link.url for link in entry.links)
                assert literal in text, f"{topic['id']} {lang} lacks {literal}"


def test_sources_cite_known_tutorial_steps(knowledge):
    for entry in knowledge.faq.values():
        assert entry.source, entry.id
        for src in entry.source:
            if src.tutorial:
                assert all(1 <= s <= TUTORIALS[src.tutorial].steps for s in src.steps)


BAD = FIXTURES / "knowledge_bad"
EXPECTED_BAD = [
    "knowledge_bad/faq/Bad_Name.yaml:1: file name 'Bad_Name' is not a valid id",
    "knowledge_bad/faq/alpha.yaml:5: URL 'https://example.gov.tw/ok' in answer is not on an",
    "knowledge_bad/faq/alpha.yaml:6: malformed URL 'https://bad_host/x' in answer",
    "knowledge_bad/faq/alpha.yaml:9: en: 7 sample questions, need ≥ 8",
    "knowledge_bad/faq/alpha.yaml:10: a topic cannot be related to itself",
    "knowledge_bad/faq/alpha.yaml:10: related topic 'nowhere' does not exist",
    "knowledge_bad/faq/alpha.yaml:12: malformed URL 'ftp://example.com/file'",
    "knowledge_bad/faq/alpha.yaml:15: tutorial 001 has steps 1–23, not 24",
    "knowledge_bad/faq/beta.yaml:1: id 'gamma' differs from the file name 'beta'",
    "knowledge_bad/faq/beta.yaml:4: title.en reads as Chinese",
    "knowledge_bad/faq/beta.yaml:6: answer.zh has no Chinese",
    "knowledge_bad/faq/beta.yaml:9: sample question '問題一' is also in alpha",
    "knowledge_bad/faq/beta.yaml:13: malformed URL 'not a url'",
    "knowledge_bad/faq/beta.yaml:14: anchor 'no_such_concept' is not a concept of synonyms.yaml",
    "knowledge_bad/faq/broken.yaml:3: invalid YAML",
    "knowledge_bad/faq/delta-links.yaml:4: URL 'https://gold-card.nat.gov.tw/zh/faq/how-do-i-change"
    "-my-address/' in answer is not on an official host",
    "knowledge_bad/faq/delta-links.yaml:5: URL 'http://goldcard.nat.gov.tw/zh/faq/how-do-i-change-"
    "my-address/' in answer: official pages are linked with https://",
    "knowledge_bad/faq/delta-links.yaml:5: URL 'https://example.com/page' in answer is not on an "
    "official host",
    "knowledge_bad/faq/delta-links.yaml:10: URL 'https://goldcard.nat.gov.tw/zh/faq/how-do-i-change-"
    "my-address': official FAQ pages are https://goldcard.nat.gov.tw/zh/faq/<slug>/",
    "knowledge_bad/faq/delta-links.yaml:12: URL 'https://immigration.gov.tw.example.com/' is not "
    "on an official host",
    "knowledge_bad/faq/delta-links.yaml:15: URL 'https://www.taiwangoldcard.tw/' is not on an "
    "official host",
    "knowledge_bad/faq/gamma-bad-source.yaml:7: source.0: Value error, give either `tutorial`",
    "knowledge_bad/faq/gamma-bad-source.yaml:8: source.1.tutorial: Input should be '000'",
    "knowledge_bad/faq/no-source.yaml:1: source: Field required",
    "knowledge_bad/faq/no-source.yaml:4: surprise: Extra inputs are not permitted",
    "knowledge_bad/synonyms.yaml:5: term 'Renew' is in both 'renew' and 'extend'",
    "knowledge_bad/out_of_scope.yaml:6: question '問題一' is a sample question of FAQ topic",
    "knowledge_bad/out_of_scope.yaml:7: question 'Income  TAX' is already in 'tax'",
    "knowledge_bad/out_of_scope.yaml:8: duplicate group id 'tax'",
    "knowledge_bad/out_of_scope.yaml:10: group 'tax' has no en questions",
    "knowledge_bad/out_of_scope.yaml:14: zh text has no Chinese",
    "knowledge_bad/out_of_scope.yaml:15: en text has no English",
    "knowledge_bad/out_of_scope.yaml:17: zh question 'no Chinese here' has no Chinese",
    "knowledge_bad/out_of_scope.yaml:18: en question '天氣好嗎' has no English",
    "knowledge_bad/out_of_scope.yaml:19: id: String should match pattern",
    "knowledge_bad/out_of_scope.yaml:22: about: Field required",
    "knowledge_bad/topics.yaml:4: topic 'missing-topic' has no FAQ entry",
]


@pytest.fixture(scope="module")
def bad_problems() -> list[str]:
    knowledge, problems = check_knowledge(BAD)
    assert knowledge is None
    return [str(p) for p in problems]


@pytest.mark.parametrize("expected", EXPECTED_BAD)
def test_bad_fixture_reports_each_problem_at_its_line(bad_problems, expected):
    assert [p for p in bad_problems if p.startswith(expected)] != [], bad_problems


def test_check_command_exit_status(capsys):
    assert main(["check"]) == 0
    assert capsys.readouterr().out.strip() == "knowledge: ok"


def test_check_command_prints_problems(monkeypatch, capsys):
    import bot.__main__ as cli
    import bot.knowledge as kn

    monkeypatch.setattr(cli, "check_knowledge", lambda: kn.check_knowledge(BAD))
    assert main(["check"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) >= len(EXPECTED_BAD)
    assert all(re.match(r"^[^:]+:\d+: ", line) for line in out)


OUT_OF_SCOPE_GROUPS = {
    "other-permits", "tax", "health-insurance", "banking", "daily-life", "other-countries",
    "about-the-bot",
}  # fmt: skip


def test_real_out_of_scope_groups_cover_the_near_domain(knowledge):
    assert {g.id for g in knowledge.out_of_scope} >= OUT_OF_SCOPE_GROUPS
    for group in knowledge.out_of_scope:
        for lang in ("zh", "en"):
            assert group.about[lang], (group.id, lang)
            assert 15 <= len(group.questions[lang]) <= 30, (group.id, lang)


def test_good_out_of_scope_file_loads_as_typed_groups(tmp_path):
    root = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, root)
    shutil.copy(FIXTURES / "out_of_scope_good.yaml", root / "out_of_scope.yaml")
    knowledge, problems = check_knowledge(root)
    assert [str(p) for p in problems] == []
    assert knowledge is not None
    weather, scooters = knowledge.out_of_scope
    assert (weather.id, weather.about["en"], weather.questions["zh"]) == (
        "weather",
        "the weather",
        ("明天會下雨嗎", "颱風要來了嗎"),
    )
    assert scooters.about["zh"] == "買機車"


def test_out_of_scope_file_is_optional(tmp_path):
    root = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, root)
    (root / "out_of_scope.yaml").unlink()
    knowledge, problems = check_knowledge(root)
    assert problems == []
    assert knowledge is not None
    assert knowledge.out_of_scope == ()


def test_faq_citing_each_official_host_is_clean(tmp_path):
    root = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, root)
    shutil.copy(FIXTURES / "faq_links_good.yaml", root / "faq" / "official-links.yaml")
    knowledge, problems = check_knowledge(root)
    assert [str(p) for p in problems] == []
    assert knowledge is not None
    assert [link.url for link in knowledge.faq["official-links"].links] == [
        "https://goldcard.nat.gov.tw/zh/application/",
        "https://goldcard.nat.gov.tw/",
    ]


def _knowledge_texts(knowledge):
    """(where, text) for every answer, guide intro, step text and link the bot can show."""
    for entry in knowledge.faq.values():
        yield from ((entry.id, entry.answer[lang]) for lang in ("zh", "en"))
        yield from ((entry.id, link.url) for link in entry.links)
    for guide in knowledge.guides.values():
        if guide.intro:
            yield from ((f"{guide.id} intro", guide.intro[lang]) for lang in ("zh", "en"))
        for step in guide.steps:
            where = f"{guide.id} step {step.n}"
            for text in (step.title, step.body, *step.notes):
                yield from ((where, text[lang]) for lang in ("zh", "en"))
            yield from ((where, link.url) for link in step.links)


def _seed_faq_urls() -> set[str]:
    """The official FAQ pages the tutorials link to, with the export's artefacts mended."""
    urls = set()
    for seed in sorted((SHARED / "seeds").glob("*.txt")):
        for url in re.findall(r"<(https?://[^>\s]+)>", seed.read_text(encoding="utf-8")):
            url = url.replace("gold-card.nat.gov.tw", "goldcard.nat.gov.tw")
            urls.add(url.replace("born-in-main-land-china", "born-in-mainland-china"))
    return {u for u in urls if "/faq/" in u}


def test_official_faq_links_are_the_tutorials_pages_unbroken(knowledge):
    if not (SHARED / "seeds").is_dir():
        pytest.skip("shared/seeds (the official tutorials) is not beside the project")
    official = _seed_faq_urls()
    assert len(official) >= 10
    for where, text in _knowledge_texts(knowledge):
        assert "gold-card.nat.gov.tw" not in text, where
        assert "main-land" not in text, where
        for url in re.findall(r"https?://goldcard\.nat\.gov\.tw/[^\s，。、；）)]*", text):
            if "/faq/" in url:
                assert url in official, (where, url)


# --- facts the independent readers found missing or wrong (issue 12, Content) --------------------


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_replacement_card_sends_data_changes_through_data_change(knowledge):
    answer = knowledge.faq["replacement-card"].answer
    # Tutorial 004 (intro, step 12): name and gender are changed in 就業金卡資料異動,
    # the fee paid there.
    for lang, words in (
        ("zh", ("姓名", "性別", "線上繳費")),
        ("en", ("name", "gender", "線上繳費")),
    ):
        route = [line for line in _lines(answer[lang]) if "就業金卡資料異動" in line]
        assert route, lang
        assert all(any(w in line for line in route) for w in words), (lang, route)
    # Wherever the bot names the replacement form, it never sends a data change there.
    for where, text in _knowledge_texts(knowledge):
        for line in _lines(text):
            if "就業金卡補發申請" in line:
                assert not re.search(r"資料變更|姓名|data (has )?changed|changed data", line), (
                    where
                )


def test_supplement_deadline_on_the_upload_step_and_the_last_step(knowledge):
    guide = knowledge.guide("supplement")
    for n in (11, guide.total):
        notes = guide.step(n).notes
        assert any("30 天" in note.zh and "6 個月" in note.zh for note in notes), n
        assert any("30 days" in note.en and "6 months" in note.en for note in notes), n


INSIDE_TAIWAN_OPTIONS = (
    "您入境中華民國或目前所持證件",
    "目前已持有中華民國核發之有效居留證件",
    "以免簽證方式入國",
    "以60天以上未加註限制停留簽證方式入國",
    "以60天以上加註限制停留簽證方式入國",
    "以60天以下停留簽證方式入國",
)


@pytest.mark.parametrize(
    ("topic", "literals"),
    [
        ("salary-criterion", ("勞動發管字第10805114652號",)),
        ("apply-from-inside-taiwan", INSIDE_TAIWAN_OPTIONS),
        ("dependents", ("依親親屬", "線上申辦項目")),
        ("how-to-apply", ("https://goldcard.nat.gov.tw/zh/application/",)),
        ("submit-application", ("身分", "非美籍外籍人士境外申請")),
        ("english-name-hyphen", ("舊有或其他國籍(如有)",)),
        ("login-lockout-password", ("帳號維護",)),
        ("upload-limits", ("補正(件)上傳教學",)),
    ],
)
def test_answers_give_the_fact_in_both_languages(knowledge, topic, literals):
    answer = knowledge.faq[topic].answer
    for literal in literals:
        assert literal in answer.zh and literal in answer.en, (topic, literal)


def test_sixty_days_or_less_includes_sixty(knowledge):
    # 「60天以下」 and 「6個月以上」 include the limit itself.
    for where, text in _knowledge_texts(knowledge):
        assert not re.search(r"(less than|under|fewer than) (60|sixty) days", text), where
        assert not re.search(r"more than (6|six) months", text), where
    assert "60 days or less" in knowledge.faq["apply-from-inside-taiwan"].answer.en
    assert "60 days or less" in knowledge.guide("apply").step(9).body.en


def test_fee_exemption_is_a_may_not_free(knowledge):
    # 「得免徵收規費」: the fee may be waived; the tutorials never say these changes are free.
    pairs = [(entry.id, entry.answer) for entry in knowledge.faq.values()]
    for guide in knowledge.guides.values():
        for step in guide.steps:
            pairs += [(f"{guide.id} step {step.n}", note) for note in step.notes]
    exempted = 0
    for where, text in pairs:
        assert "免收規費" not in text.zh and "免規費" not in text.zh, where
        assert not re.search(r"(?<!visa-)\bfree\b", text.en), where
        if "得免徵收規費" in text.zh:
            exempted += 1
            assert "may be exempted from the fee" in text.en, where
    assert exempted >= 5


def test_merge_into_a_pdf_not_into_one(knowledge):
    for where, text in _knowledge_texts(knowledge):
        assert "one PDF" not in text and "一個 PDF" not in text and "一個PDF" not in text, where


def test_new_application_upload_limits_say_where_they_come_from(knowledge):
    note = " ".join(n.en for n in knowledge.guide("apply").step(19).notes)
    note_zh = " ".join(n.zh for n in knowledge.guide("apply").step(19).notes)
    answer = knowledge.faq["upload-limits"].answer
    for text in (note_zh, answer.zh):
        assert "補正(件)上傳教學" in text and "步驟 11" in text
    for text in (note, answer.en):
        assert "supplement tutorial" in text and "step 11" in text


def test_final_tab_status_line_is_checked_before_paying(knowledge):
    # Tutorial 2 step 21: the 身分 line sums up the question-page answers (steps 8-9).
    notes = knowledge.guide("apply").step(21).notes
    assert any("身分" in n.zh and "問題頁" in n.zh and "繳費" in n.zh for n in notes)
    assert any("身分" in n.en and "question page" in n.en and "pay" in n.en for n in notes)


def test_login_page_step_links_the_application_process_page(knowledge):
    # Tutorial 2 step 3 sends applicants to the website's process page
    # (tutorial 4 step 4 links it).
    for guide_id, n in (("apply", 3), ("supplement", 3), ("change", 3), ("renew", 2)):
        step = knowledge.guide(guide_id).step(n)
        assert "https://goldcard.nat.gov.tw/zh/application/" in [link.url for link in step.links]
