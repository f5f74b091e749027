"""Benchmark of the duplicate check (减负, issue 27): how well each band judges the
held-apart pairs, and how long a check takes against a unit subtree's open cases.

    uv run python bench/duplicates.py [--cases 10000] [--rounds 5]

1. Precision and recall of each band on the ``report`` part of
   ``tests/data/duplicates/pairs.jsonl`` (never used to choose the measure or its
   numbers), for the new measure (``domain.duplicates.judge`` at the policy's
   ``duplicate_auto_threshold`` / ``duplicate_possible_threshold``) and for the old
   bigram Dice at its 0.6 threshold. Goals: possible band recall >= 0.95 at precision
   >= 0.8; automatic band precision >= 0.99, recall >= 0.6.
2. The time to check one new finding against N open cases (default 10,000), in
   process, the cases already read from the case summary:
     cold      first check in a process: every case's text segmented (jieba), cached,
               and the unit's inverted index of title bigrams built
     warm      every later check: the index brought up to date with the rows, the
               new finding analysed, the cases sharing title bigrams whose upper
               bound reaches the possible band judged
     no index  the same without the index: every case's bound computed
     baseline  the old ``find_duplicate`` (bigram Dice) over the same cases
   median CPU time of --rounds checks, each with another new finding (half repeat an
   open case in other words, half are about another place); goal: warm < 50 ms.
   The SQL read of the open cases is not included (the same for both measures).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from application.duplicate_text import analysed, lexicon_of  # noqa: E402
from application.duplicates import judge_against  # noqa: E402
from domain.duplicates import (  # noqa: E402
    CaseSummary,
    FindingText,
    find_duplicate,
    judge,
    similarity,
)
from domain.policy import DEFAULT_POLICY  # noqa: E402

PAIRS = ROOT / "tests" / "data" / "duplicates" / "pairs.jsonl"
OLD_THRESHOLD = Decimal("0.6")

PLACES = [
    f"{a}{b}{c}"
    for a in "东西南北中上下前后新"
    for b in ("山", "河", "湖", "坪", "岭", "桥", "塘", "湾", "沟", "庄")
    for c in ("镇", "乡", "村", "街道", "社区")
]


def _texts(pair: dict[str, dict[str, str]]) -> tuple[FindingText, FindingText]:
    return FindingText(**pair["a"]), FindingText(**pair["b"])


def quality() -> None:
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    report = [p for p in pairs if p["split"] == "report"]
    lexicon = lexicon_of(DEFAULT_POLICY)
    rows = []
    for pair in report:
        a, b = _texts(pair)
        new = judge(
            analysed(a.title, a.description, a.category, lexicon),
            analysed(b.title, b.description, b.category, lexicon),
        )
        rows.append((pair["label"] == "duplicate", new, similarity(a, b)))
    positives = sum(d for d, _, _ in rows)
    print(f"held-apart pairs: {len(rows)} ({positives} duplicates)")

    def band(name: str, index: int, threshold: Decimal) -> None:
        tp = sum(1 for r in rows if r[0] and r[index] >= threshold)
        fp = sum(1 for r in rows if not r[0] and r[index] >= threshold)
        precision = tp / max(1, tp + fp)
        print(
            f"  {name:<34} threshold {threshold}: precision {precision:.3f}  "
            f"recall {tp / positives:.3f}  ({tp} of {positives}, {fp} wrong)"
        )

    band("new, automatic band", 1, DEFAULT_POLICY.duplicate_auto_threshold)
    band("new, possible band (and above)", 1, DEFAULT_POLICY.duplicate_possible_threshold)
    band("old bigram Dice", 2, OLD_THRESHOLD)


def _open_cases(count: int, rng: random.Random) -> list[CaseSummary]:
    """Open cases in the pairs' wording, each about a place of the subtree."""
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    texts = [p[side] for p in pairs for side in ("a", "b")]
    cases = []
    for n in range(count):
        t = texts[n % len(texts)]
        place = PLACES[(n // len(texts)) % len(PLACES)]
        cases.append(
            CaseSummary(
                case_id=f"case-{n:06d}",
                unit_id="unit",
                title=(place + t["title"])[:200],
                description=t["description"],
                category=t["category"],
            )
        )
    rng.shuffle(cases)
    return cases


def speed(count: int, rounds: int) -> None:
    rng = random.Random(27)
    cases = _open_cases(count, rng)
    # half repeat an open case (another office's wording), half are about another place
    news = [
        FindingText(
            title=(c.title + "问题") if n % 2 else rng.choice(PLACES) + c.title[3:],
            description=c.description,
        )
        for n, c in enumerate(rng.sample(cases, rounds + 1))
    ]
    t0 = time.process_time()
    judge_against(news[0], cases, DEFAULT_POLICY, unit_id="unit")
    cold = time.process_time() - t0

    def timed(check: Callable[[FindingText], object]) -> float:
        """Median CPU time of the process per check (wall time on a shared machine
        swings by several times; the CPU time of a single-threaded check does not)."""
        times = []
        for new in news[1:]:
            start = time.process_time()
            check(new)
            times.append(time.process_time() - start)
        return statistics.median(times)

    warm = timed(lambda new: judge_against(new, cases, DEFAULT_POLICY, unit_id="unit"))
    scan = timed(lambda new: judge_against(new, cases, DEFAULT_POLICY))
    old = timed(lambda new: find_duplicate(new, "unit", cases, OLD_THRESHOLD))
    print(f"check against {count} open cases (CPU time, median of {rounds}):")
    print(f"  new, cold (segments every case once) {cold * 1000:9.1f} ms")
    print(f"  new, warm (index of title bigrams)   {warm * 1000:9.1f} ms   goal < 50 ms")
    print(f"  new, warm, no index (scan all)       {scan * 1000:9.1f} ms")
    print(f"  old bigram Dice (baseline)           {old * 1000:9.1f} ms")
    print(f"  ratio old / new warm                 {old / warm:9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    quality()
    speed(args.cases, args.rounds)


if __name__ == "__main__":
    main()
