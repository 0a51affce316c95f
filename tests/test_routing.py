"""The router: which answer, which guide and calculator, dates, compound and scoped messages."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from bot.routing import CALCULATOR_OF_TOPIC, GUIDE_OF_TOPIC, Router

TODAY = date(2026, 12, 3)


@pytest.fixture(scope="module")
def router(knowledge, matcher) -> Router:
    return Router(knowledge, matcher)


def _route(router: Router, text: str) -> dict:
    return router.route(text, today=TODAY).as_json()


def test_offer_tables_name_real_topics_guides_and_calculators(knowledge) -> None:
    from bot.deadlines import KINDS

    assert set(GUIDE_OF_TOPIC) <= set(knowledge.faq)
    assert set(GUIDE_OF_TOPIC.values()) <= set(knowledge.guides)
    assert set(CALCULATOR_OF_TOPIC) <= set(knowledge.faq)
    assert set(CALCULATOR_OF_TOPIC.values()) <= set(KINDS)


@pytest.mark.parametrize(
    "text",
    ["how do I apply for the gold card", "金卡怎麼申請", "如何申請就業金卡", "申请金卡的步骤"],
)
def test_how_to_apply_leads_into_the_apply_guide(router: Router, text: str) -> None:
    out = _route(router, text)
    assert out["answer"]["id"] == "how-to-apply"
    assert {"kind": "guide", "id": "apply"} in out["offers"]


@pytest.mark.parametrize(
    ("text", "topic", "kind", "day"),
    [
        ("my card expires on 15 April 2027, when can I renew?", "renewal-window", "renewal",
         "2027-04-15"),
        ("我的金卡116年4月15日到期，什麼時候可以延期？", "renewal-window", "renewal",
         "2027-04-15"),
        ("我2026年8月8日搬進新家，金卡地址什麼時候前要更新？", "address-change", "address",
         "2026-08-08"),
    ],
)  # fmt: skip
def test_a_dated_question_runs_the_calculator(router, text, topic, kind, day) -> None:
    out = _route(router, text)
    assert out["answer"]["id"] == topic
    assert out["offers"][0] == {"kind": "deadline", "id": kind, "date": day}


def test_a_question_without_a_date_offers_the_calculator_without_one(router) -> None:
    out = _route(router, "when can I renew my gold card?")
    assert {"kind": "deadline", "id": "renewal"} in out["offers"]


def test_an_expiry_is_never_read_from_today(router) -> None:
    out = _route(router, "can I renew today?")
    assert all("date" not in offer for offer in out["offers"])


def test_greetings_and_thanks_do_not_drown_the_question(router) -> None:
    out = _route(
        router,
        "Hello, I hope you are well. I would like to ask how to renew my gold card. Thank you!",
    )
    assert out["answer"]["id"] == "renewal-how"
    assert {"kind": "guide", "id": "renew"} in out["offers"]


def test_two_questions_answer_the_first_and_offer_the_second(router) -> None:
    out = _route(router, "延期要怎麼辦？還有延期可以選幾年？")
    assert (out["answer"]["id"], out["also"]) == ("renewal-how", "validity-period")


@pytest.mark.parametrize(
    "text",
    [
        "I'm a student with an ARC, not a gold card. How do I extend my residence?",
        "我的一般居留證（不是金卡）掉了，要去哪裡補辦？",
    ],
)
def test_another_permit_is_declined(router, text) -> None:
    assert _route(router, text)["answer"] is None


def test_negated_words_do_not_decide(router) -> None:
    out = _route(router, "Lost my gold card, not my passport. What do I do?")
    assert out["answer"]["id"] == "replacement-card"


@pytest.mark.parametrize("text", ["ok", "好的", "👍", "cool, got it"])
def test_acknowledgements_are_not_answered(router, text) -> None:
    route = router.route(text, today=TODAY)
    assert (route.kind, route.as_json()["answer"]) == ("ack", None)


def test_upload_in_the_supplement_names_its_step(router) -> None:
    out = _route(router, "補件要怎麼上傳文件？")
    assert {"kind": "guide", "id": "supplement", "step": 11} in out["offers"]


def test_ask_json_carries_offers_and_also() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"],
        input="Card expires 2028-01-31, when does my renewal window open?\n",
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(proc.stdout)
    assert set(out) >= {"question", "lang", "answer", "candidates", "offers", "also"}
    want = {"kind": "deadline", "id": "renewal", "date": "2028-01-31"}
    assert any(offer.items() >= want.items() for offer in out["offers"])


def test_a_huge_message_is_read_only_as_far_as_it_matters(router) -> None:
    message = "How do I renew my gold card? " * 500
    route = router.route(message, today=TODAY)
    assert route.topic == "renewal-how"
    assert route.as_json()["question"] == message  # the contract echoes the question whole


def test_processing_time_needs_who_applies_before_it_runs(router) -> None:
    out = _route(router, "I paid on 6 January 2026, when will my application be approved?")
    assert all("date" not in offer for offer in out["offers"] if offer["id"] == "processing")
    abroad = _route(
        router, "I applied from abroad and paid on 6 January 2026, how long is the review?"
    )
    assert {"kind": "deadline", "id": "processing", "date": "2026-01-06"} in abroad["offers"]


def test_a_date_given_with_a_how_to_question_runs_that_procedures_calculator(router) -> None:
    out = _route(router, "I got the supplement notice on 3 August 2026, how do I upload?")
    assert out["answer"]["id"] == "supplement-how"
    assert out["offers"][0] == {"kind": "deadline", "id": "supplement", "date": "2026-08-03"}
    assert {"kind": "guide", "id": "supplement"} in out["offers"]


def test_a_dated_question_prefers_the_close_answer_that_has_a_calculator(router) -> None:
    out = _route(router, "我的護照2027年3月31日到期，還能用來申請金卡嗎？")
    assert out["answer"]["id"] == "passport-requirements"
    assert {"kind": "deadline", "id": "passport", "date": "2027-03-31"} in out["offers"]


def _offered(want: dict, got: list[dict]) -> bool:
    return any(
        g["kind"] == want["kind"]
        and g["id"] == want["id"]
        and all(str(g.get(k)) == str(want[k]) for k in ("step", "date") if k in want)
        for g in got
    )


@pytest.mark.parametrize(
    ("name", "in_scope", "declined", "offers"),
    [("dev-questions.yaml", 0.97, 1.0, 1.0), ("dev-questions-2.yaml", 0.97, 0.95, 1.0)],
)
def test_dev_files_through_the_router_stay_above_their_floors(
    router, name, in_scope, declined, offers
) -> None:
    """Regression floors, below the issue's targets (≥ 97 % in scope, ≥ 95 % declined, every
    offer), which the README reports against; raise them as the router improves."""
    import yaml

    from tests.conftest import SHARED

    path = SHARED / name
    if not path.exists():
        pytest.skip(f"shared/{name} is not beside the project")
    questions = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    right = wrong_oos = n_in = n_oos = n_offers = offers_ok = 0
    for q in questions:
        out = _route(router, " ".join(q["q"].split()))
        got = (out["answer"] or {}).get("id")
        if q["expect"]:
            n_in += 1
            right += got == q["expect"]
        else:
            n_oos += 1
            wrong_oos += got is not None
        for want in q.get("offers") or []:
            n_offers += 1
            offers_ok += _offered(want, out["offers"])
    assert right / n_in >= in_scope
    assert (n_oos - wrong_oos) / n_oos >= declined
    assert n_offers == 0 or offers_ok / n_offers >= offers


def test_a_hong_kong_renewal_runs_the_calculator_for_hong_kong_and_macau(router) -> None:
    route = router.route(
        "I'm a Hong Kong resident and my card expires on 15 March 2027. When can I renew?",
        today=TODAY,
    )
    [calculator] = [o for o in route.offers if o.kind == "deadline"]
    assert (calculator.id, calculator.profile) == ("renewal", "hk-macau")
    assert calculator.date is not None and calculator.date.isoformat() == "2027-03-15"


def test_an_answer_without_a_guide_of_its_own_offers_the_step_that_explains_it(router) -> None:
    out = _route(router, "How do I answer whether I've been issued an ROC visa before?")
    assert out["answer"]["id"] == "previous-roc-visa"
    assert {"kind": "guide", "id": "apply", "step": 16} in out["offers"]
    general = _route(router, "Which browser should I use for the platform?")
    assert general["answer"]["id"] == "browser-vpn"
    assert general["offers"] == []  # every login step cites it: no one step's


def test_two_questions_the_first_decides_even_when_the_second_is_surer(router) -> None:
    out = _route(
        router,
        "Lost my gold card on the MRT yesterday, how do I get it replaced? "
        "Also I forgot which service station I picked for collecting the card.",
    )
    assert (out["answer"]["id"], out["also"]) == ("replacement-card", "forgot-pickup-location")


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        (
            "I'm from Macau and my card runs out next spring. I heard renewals for Macau "
            "residents involve extra checks. Anything in particular I should prepare?",
            "renewal-hk-macau",
        ),
        (
            "I lost the confirmation email after I submitted, so I no longer have my "
            "application number. What can I do?",
            "forgot-application-number",
        ),
    ],
)
def test_a_story_decides_for_a_question_that_names_nothing(router, text, topic) -> None:
    """ "Anything I should prepare?" alone reads as some other topic; the story says which."""
    assert router.route(text, today=TODAY).topic == topic


def test_a_question_that_names_its_subject_still_decides_over_its_story(router) -> None:
    text = (
        "My passport was replaced, not my card. The number is different now. "
        "How do I update it on my gold card?"
    )
    assert router.route(text, today=TODAY).topic == "data-change-how"


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("the site keeps kicking me out halfway through the form, why?", "session-timeout"),
        ("可以用QQ郵箱註冊平台帳號嗎？", "no-mainland-email"),
        (
            "Should I get my passport renewed before applying? It runs out in April.",
            "passport-requirements",
        ),
        ("申請之前護照要先換新的嗎？還剩五個月就到期", "passport-requirements"),
        ("how many years is the gold card good for", "validity-period"),
        (
            "I'm leaving Taiwan two days after I submit from Taipei, is that ok?",
            "apply-from-inside-taiwan",
        ),
    ],
)
def test_domain_vocabulary_of_everyday_wording(router, text, topic) -> None:
    """Being logged out, mainland mail services, "before applying", "good for", leaving
    Taiwan: concepts of synonyms.yaml, so wordings the samples never use still arrive."""
    assert router.route(text, today=TODAY).topic == topic


@pytest.mark.parametrize(
    "text",
    [
        "Does my time on the gold card count toward APRC?",
        "我用金卡住滿五年，可以申請永久居留嗎？",
        "After five years with a gold card, how do I get permanent residency?",
    ],
)
def test_permanent_residency_is_another_permit_even_with_the_card_named(router, text) -> None:
    """No tutorial says anything of APRC: naming the card does not bring it in scope."""
    route = router.route(text, today=TODAY)
    assert route.topic is None and route.declined_as == "other-permits"


def test_a_hong_kong_permanent_resident_is_who_applies_not_a_permit(router) -> None:
    route = router.route(
        "I'm a Hong Kong permanent resident, anything special when I apply for the gold card?",
        today=TODAY,
    )
    assert route.declined_as is None and route.topic is not None


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("how many years is my gold crad valid", "validity-period"),
        ("補件的文件要去哪裡上船？", "supplement-how"),
        ("送出申請後要去哪李繳費", "pay-online"),
        (
            "I applied from inside Taiwan last week, can I fly to Bangkok on Friday?",
            "apply-from-inside-taiwan",
        ),
    ],
)
def test_common_slips_and_travel_wording(router, text, topic) -> None:
    """A transposed "crad", the input method's 上船 for 上傳 and 哪李 for 哪裡, and a flight out
    of Taiwan while the application is reviewed ("last week" is not "how long it lasts")."""
    assert router.route(text, today=TODAY).topic == topic
