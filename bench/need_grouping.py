"""How well the suggested groups of needs match a hand-labelled set, under several settings.

Reads ``tests/fixtures/needs_labelled.csv`` (id, area, group, text: needs written the way
municipalities and county authorities write them, each given a group by hand), groups
each area's needs with ``reports.need_grouping.suggest_groups`` and compares the
suggestion with the hand labels by the adjusted Rand index (ARI: 1 is the same
partition, 0 what chance gives, below 0 worse than chance).

Printed for the chosen setting (the module's defaults): per area the needs, the groups
by hand, the groups suggested, and the ARI; overall the mean of the areas' ARI weighted
by their needs (the headline figure, since grouping happens within one area) and the
ARI over all needs at once (areas kept apart, which flatters it). Then a table of other
settings next to it: features (words, character n-grams, both), with and without the
suffix normaliser and the [survey] stop words, thresholds, and k by silhouette. Then a
check against tuning to this very set: for each area, the threshold that does best on
the *other* areas, and what it gives on this one. Last, the time to group 576 needs.

    .venv/bin/python bench/need_grouping.py [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.metrics import adjusted_rand_score  # noqa: E402

from reports.need_grouping import (  # noqa: E402
    DEFAULT_SETTINGS,
    GroupingSettings,
    NeedText,
    suggest_groups,
)

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "needs_labelled.csv"
THRESHOLDS = (0.8, 0.85, 0.9, 0.925, 0.95, 0.96, 0.97)


@dataclass(frozen=True)
class Labelled:
    id: str
    area: str
    group: str
    text: str


@dataclass(frozen=True)
class AreaScore:
    area: str
    needs: int
    groups_by_hand: int
    groups_suggested: int
    groups_of_two_or_more: int
    ari: float


def load(path: Path = LABELLED) -> list[Labelled]:
    with path.open(encoding="utf-8", newline="") as file:
        return [Labelled(r["id"], r["area"], r["group"], r["text"]) for r in csv.DictReader(file)]


def by_area(rows: list[Labelled]) -> dict[str, list[Labelled]]:
    areas: dict[str, list[Labelled]] = defaultdict(list)
    for row in rows:
        areas[row.area].append(row)
    return dict(areas)


def suggested_labels(rows: list[Labelled], settings: GroupingSettings) -> dict[str, int]:
    groups = suggest_groups([NeedText(r.id, r.text) for r in rows], settings)
    return {need: number for number, group in enumerate(groups) for need in group.members}


def score_area(area: str, rows: list[Labelled], settings: GroupingSettings) -> AreaScore:
    found = suggested_labels(rows, settings)
    suggested = [found[r.id] for r in rows]
    sizes = defaultdict(int)
    for label in suggested:
        sizes[label] += 1
    return AreaScore(
        area=area,
        needs=len(rows),
        groups_by_hand=len({r.group for r in rows}),
        groups_suggested=len(sizes),
        groups_of_two_or_more=sum(1 for size in sizes.values() if size > 1),
        ari=float(adjusted_rand_score([r.group for r in rows], suggested)),
    )


def evaluate(
    rows: list[Labelled], settings: GroupingSettings
) -> tuple[list[AreaScore], float, float]:
    """Per-area scores, the needs-weighted mean ARI, and the pooled ARI over all needs."""
    areas = by_area(rows)
    scores = [score_area(area, areas[area], settings) for area in sorted(areas)]
    weighted = sum(s.ari * s.needs for s in scores) / sum(s.needs for s in scores)
    truth, suggested = [], []
    for area in sorted(areas):
        found = suggested_labels(areas[area], settings)
        truth += [f"{area}/{r.group}" for r in areas[area]]
        suggested += [f"{area}/{found[r.id]}" for r in areas[area]]
    return scores, weighted, float(adjusted_rand_score(truth, suggested))


def held_out(
    rows: list[Labelled], base: GroupingSettings
) -> tuple[list[tuple[str, float, float]], float]:
    """For each area: the threshold best on the other areas, and the ARI it gives here."""
    areas = by_area(rows)
    results: list[tuple[str, float, float]] = []
    for area in sorted(areas):
        others = [r for r in rows if r.area != area]
        best = max(THRESHOLDS, key=lambda t: (evaluate(others, replace(base, threshold=t))[1], -t))
        results.append(
            (area, best, score_area(area, areas[area], replace(base, threshold=best)).ari)
        )
    weighted = sum(ari * len(areas[a]) for a, _, ari in results) / len(rows)
    return results, weighted


def variants() -> list[tuple[str, GroupingSettings]]:
    d = DEFAULT_SETTINGS
    found: list[tuple[str, GroupingSettings]] = [("chosen (defaults)", d)]
    for features in ("words", "chars", "words+chars"):
        for stem in (False, True):
            for threshold in THRESHOLDS:
                settings = replace(d, features=features, stem=stem, threshold=threshold)
                if settings != d:
                    name = f"{features}, {'stem' if stem else 'no stem'}, t={threshold}"
                    found.append((name, settings))
    found.append(("without [survey] stop words", replace(d, survey_words=False)))
    for grams in ((3, 5), (4, 5), (5, 6)):
        found.append((f"character {grams[0]}-{grams[1]}-grams", replace(d, char_ngrams=grams)))
    for features in ("words", "chars", "words+chars"):
        found.append(
            (f"{features}, k by silhouette", replace(d, features=features, method="silhouette"))
        )
    return found


def timing(rows: list[Labelled], copies: int = 4) -> tuple[int, float]:
    """Seconds to group ``copies`` times the whole set as one area (ids made unique)."""
    needs = [NeedText(f"{r.id}-{i}", f"{r.text} {r.area}") for i in range(copies) for r in rows]
    start = time.perf_counter()
    suggest_groups(needs)
    return len(needs), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON document instead of tables")
    args = parser.parse_args()
    rows = load()
    scores, weighted, pooled = evaluate(rows, DEFAULT_SETTINGS)
    compared = []
    for name, settings in variants():
        _, w, p = evaluate(rows, settings)
        compared.append({"setting": name, "weighted_ari": round(w, 3), "pooled_ari": round(p, 3)})
    folds, held = held_out(rows, DEFAULT_SETTINGS)
    count, seconds = timing(rows)
    if args.json:
        print(json.dumps({
            "settings": asdict(DEFAULT_SETTINGS),
            "areas": [asdict(s) for s in scores],
            "needs": len(rows),
            "weighted_ari": weighted,
            "pooled_ari": pooled,
            "held_out": {"areas": folds, "weighted_ari": held},
            "compared": compared,
            "timing": {"needs": count, "seconds": seconds},
        }, ensure_ascii=False, indent=2))  # fmt: skip
        return
    print(f"Labelled needs: {len(rows)} in {len(scores)} areas; setting: {DEFAULT_SETTINGS}")
    print(f"\n{'area':<14}{'needs':>6}{'by hand':>9}{'suggested':>11}{'of 2+':>7}{'ARI':>8}")
    for s in scores:
        print(
            f"{s.area:<14}{s.needs:>6}{s.groups_by_hand:>9}{s.groups_suggested:>11}"
            f"{s.groups_of_two_or_more:>7}{s.ari:>8.3f}"
        )
    hand = sum(s.groups_by_hand for s in scores)
    suggested = sum(s.groups_suggested for s in scores)
    print(f"{'overall':<14}{len(rows):>6}{hand:>9}{suggested:>11}{'':>7}{weighted:>8.3f}")
    print(
        f"(weighted mean of the areas' ARI {weighted:.3f}; pooled ARI over all needs {pooled:.3f})"
    )
    print(f"\n{'setting':<40}{'weighted ARI':>14}{'pooled ARI':>12}")
    for line in sorted(compared, key=lambda c: -c["weighted_ari"]):
        print(f"{line['setting']:<40}{line['weighted_ari']:>14.3f}{line['pooled_ari']:>12.3f}")
    print("\nThreshold chosen on the other areas, scored on the held-out one:")
    for area, threshold, ari in folds:
        print(f"  {area:<14} t={threshold:<6} ARI {ari:.3f}")
    print(f"  weighted mean ARI, held out: {held:.3f}")
    print(f"\nGrouping {count} needs as one area took {seconds * 1000:.0f} ms.")


if __name__ == "__main__":
    main()
