"""Suggested groups of similar free-text needs within one area (issue 14, ADR 25).

Pure computation: needs (an id and a text) in, groups out; no database, no network, no
randomness. Staff accept, rename or split the suggestions in the workspace; an accepted
group becomes a tag (``services/need_groups.py``).

How: each text is lower-cased and cut into words; Norwegian stop words (bokmål and
nynorsk, ``stopwords_no.txt``) are dropped and a light suffix-stripping normaliser folds
inflections together ("rekruttering", "rekrutteringen", "rekruttere"). The texts become
TF-IDF vectors of the character n-grams within those words (4 to 6 letters), which is
what joins Norwegian compounds and spellings ("heltidskultur" and "heltidsstillinger",
"sykepleiere" and "sjukepleiarar" share "pleie"/"plei"). Needs are then clustered by
average-linkage agglomerative clustering on cosine distance, merging until the closest
two clusters are further apart than a threshold. ``bench/need_grouping.py`` measures
the settings against a hand-labelled set (``tests/fixtures/needs_labelled.csv``); the
defaults here are what it chose (ADR 25 gives the figures).

scikit-learn is imported on first use, not with the module: the workspace and the CLI
load this module, and the import alone takes about a second.

Every need ends in exactly one group (a need like no other is a group of one). The
result does not depend on the order the needs come in: they are sorted by id first.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # NumPy loads with scikit-learn, when needs are first grouped
    import numpy as np
    from numpy.typing import NDArray

STOPWORDS_FILE = Path(__file__).with_name("stopwords_no.txt")
MAX_NAME = 60  # a suggested name must fit as a tag (services/need_tags.py MAX_LABEL)
MIN_STEM = 4  # a normalised word keeps at least this many letters

# Endings stripped by the normaliser, longest first: plural and definite forms of nouns
# (bokmål -ene/-er/-en/-et, nynorsk -ane/-ar/-a), verb forms (-te/-de/-es/-ast), the
# -ing/-ering nouns and -het/-else abstracts, and -lig/-leg adjectives. Written for this
# project after the pattern of Snowball's Norwegian step 1, kept light on purpose.
SUFFIXES = tuple(
    sorted(
        """
        hetene hetens heten heter heta het
        ingane ingene ingar inger ingen inga ing
        arane arar aren erne ere
        elsane elsene elsen elser else
        ande ende edes ede ane ene ens ers ets ert ast
        lege lige leg lig
        ar er en et as es a e
        """.split(),
        key=lambda suffix: (-len(suffix), suffix),
    )
)

WORD = re.compile(r"[0-9a-zæøåäöüéèêóòô]+")

Features = Literal["words", "chars", "words+chars"]
Method = Literal["threshold", "silhouette"]


@dataclass(frozen=True)
class NeedText:
    """A need to group: an id the caller understands (e.g. a ``NeedKey`` token) and its text."""

    id: str
    text: str


@dataclass(frozen=True)
class GroupingSettings:
    """How to group. The defaults are the setting ``bench/need_grouping.py`` justified."""

    features: Features = "chars"
    stem: bool = True
    survey_words: bool = True  # also drop the [survey] words ("behov", "trenger", ...)
    method: Method = "threshold"
    threshold: float = 0.95  # cosine distance beyond which clusters are not merged
    char_ngrams: tuple[int, int] = (4, 6)  # lengths of the character n-grams
    min_needs: int = 4  # fewer needs than this: one group, no clustering
    typical: int = 3  # most typical needs shown per group
    name_terms: int = 3  # terms in a suggested name


DEFAULT_SETTINGS = GroupingSettings()


@dataclass(frozen=True)
class SuggestedGroup:
    """A group of similar needs: a readable name from its top terms, the terms, its
    members (most typical first, then by id) and up to ``typical`` most typical ids."""

    name: str
    terms: tuple[str, ...]
    members: tuple[str, ...]
    typical: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.members)


# --- words ----------------------------------------------------------------------------------


@cache
def stopwords(survey_words: bool = True) -> frozenset[str]:
    """The stop words of ``stopwords_no.txt``: its [function] section, and its [survey]
    section too unless ``survey_words`` is off."""
    words: set[str] = set()
    section = ""
    for line in STOPWORDS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line and (section == "function" or (section == "survey" and survey_words)):
            words.add(line)
    return frozenset(words)


@lru_cache(maxsize=100_000)
def normalise(word: str) -> str:
    """A word with one inflectional ending stripped (``rekrutteringen`` -> ``rekrutter``),
    never shorter than ``MIN_STEM`` letters."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            return word[: -len(suffix)]
    return word


def words_of(text: str, *, survey_words: bool = True) -> list[str]:
    """The content words of a text: lower case, Unicode-composed, stop words and
    one-letter words left out (numbers are kept: "2031", "m365")."""
    composed = unicodedata.normalize("NFC", text).lower()
    dropped = stopwords(survey_words)
    return [w for w in WORD.findall(composed) if len(w) > 1 and w not in dropped]


def terms_of(text: str, settings: GroupingSettings) -> list[str]:
    """The terms a text is counted by: its content words, normalised if ``stem``."""
    words = words_of(text, survey_words=settings.survey_words)
    return [normalise(w) for w in words] if settings.stem else words


# --- vectors --------------------------------------------------------------------------------


def _identity(terms: list[str]) -> list[str]:
    return terms


def similarities(texts: Sequence[str], settings: GroupingSettings) -> NDArray[np.float64]:
    """The cosine similarity of every pair of texts (1 on the diagonal; 0 for a text with
    no content words). With both kinds of features, the mean of the two similarities."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer  # ~1 s: only when used

    term_lists = [terms_of(text, settings) for text in texts]
    parts: list[NDArray[np.float64]] = []
    if settings.features in ("words", "words+chars"):
        parts.append(_gram(TfidfVectorizer(analyzer=_identity, sublinear_tf=True), term_lists))
    if settings.features in ("chars", "words+chars"):
        joined = [" ".join(terms) for terms in term_lists]
        chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=settings.char_ngrams, sublinear_tf=True
        )
        parts.append(_gram(chars, joined))
    similar: NDArray[np.float64] = np.clip(np.mean(parts, axis=0), 0.0, 1.0)
    np.fill_diagonal(similar, 1.0)
    return similar


def _gram(vectorizer: Any, documents: Sequence[Any]) -> NDArray[np.float64]:
    """Row-normalised TF-IDF vectors times their transpose, kept sparse until the end
    (character n-grams of hundreds of needs are tens of thousands of columns)."""
    import numpy as np

    try:
        vectors = vectorizer.fit_transform(documents)
    except ValueError:  # an empty vocabulary: no text has a content word
        return np.zeros((len(documents), len(documents)))
    return np.asarray((vectors @ vectors.T).toarray(), dtype=np.float64)


# --- clustering -----------------------------------------------------------------------------


def cluster_labels(distances: NDArray[np.float64], settings: GroupingSettings) -> list[int]:
    """A cluster number for each row of a cosine distance matrix (at least two rows)."""
    from sklearn.cluster import AgglomerativeClustering  # ~1 s: only when used
    from sklearn.metrics import silhouette_score

    count = distances.shape[0]
    if settings.method == "threshold":
        model = AgglomerativeClustering(
            n_clusters=None,
            metric="precomputed",
            linkage="average",
            distance_threshold=settings.threshold,
        )
        return [int(label) for label in model.fit_predict(distances)]
    best: tuple[float, list[int]] | None = None
    for k in range(2, min(count - 1, 40) + 1):
        model = AgglomerativeClustering(n_clusters=k, metric="precomputed", linkage="average")
        labels = [int(label) for label in model.fit_predict(distances)]
        score = float(silhouette_score(distances, labels, metric="precomputed"))
        if best is None or score > best[0]:
            best = (score, labels)
    return best[1] if best is not None else [0] * count


def suggest_groups(
    needs: Iterable[NeedText], settings: GroupingSettings = DEFAULT_SETTINGS
) -> list[SuggestedGroup]:
    """Groups of similar needs, largest first (then by their first member's id).

    Fewer than ``settings.min_needs`` needs make one group (none for no needs). Needs
    with the same id are taken once (the first).
    """
    unique: dict[str, NeedText] = {}
    for need in needs:
        unique.setdefault(need.id, need)
    ordered = [unique[key] for key in sorted(unique)]
    if not ordered:
        return []
    similar = similarities([need.text for need in ordered], settings)
    if len(ordered) < max(settings.min_needs, 2):
        labels = [0] * len(ordered)
    else:
        labels = cluster_labels(1.0 - similar, settings)
    members: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        members.setdefault(label, []).append(index)
    area = AreaTerms.of([need.text for need in ordered], settings)
    groups = [_describe(ordered, area, similar, rows, settings) for rows in members.values()]
    return sorted(groups, key=lambda group: (-group.size, min(group.members)))


def _describe(
    needs: Sequence[NeedText],
    area: AreaTerms,
    similar: NDArray[np.float64],
    rows: list[int],
    settings: GroupingSettings,
) -> SuggestedGroup:
    # A member's closeness to the group's centroid, up to a factor the same for all:
    # x . mean(x_j) = mean(x . x_j), the mean similarity to the group's members.
    import numpy as np

    closeness = similar[np.ix_(rows, rows)].mean(axis=1)
    ranked = sorted(range(len(rows)), key=lambda i: (-round(float(closeness[i]), 9), rows[i]))
    member_ids = tuple(needs[rows[i]].id for i in ranked)
    terms = top_terms([needs[row].text for row in rows], settings, area)
    return SuggestedGroup(
        name=group_name(terms),
        terms=terms,
        members=member_ids,
        typical=member_ids[: settings.typical],
    )


# --- names ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaTerms:
    """In how many of an area's needs each term occurs, and how many needs there are."""

    needs: int
    counts: Counter[str]

    @classmethod
    def of(cls, texts: Sequence[str], settings: GroupingSettings) -> AreaTerms:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(
                {normalise(w) if settings.stem else w for w in words_of(text, survey_words=True)}
            )
        return cls(len(texts), counts)


def top_terms(
    texts: Sequence[str], settings: GroupingSettings, area: AreaTerms | None = None
) -> tuple[str, ...]:
    """The group's most telling words, readable: terms used by many of its needs and by
    few of the area's other needs (``area``: the group alone when not given), each shown
    in the spelling its needs use most. Ties: the most frequent in the group, then
    alphabetically."""
    spellings: dict[str, Counter[str]] = {}
    overall: Counter[str] = Counter()
    member_words: list[set[str]] = []
    for text in texts:
        words = words_of(text, survey_words=True)
        member_words.append(set(words))
        for word in words:
            term = normalise(word) if settings.stem else word
            spellings.setdefault(term, Counter())[word] += 1
            overall[term] += 1
    # In how many needs a term occurs, also inside a compound ("heltid" in
    # "heltidsstillinger"): any word holding the term's first five letters counts.
    in_needs = Counter({t: sum(1 for ws in member_words if _holds(ws, t)) for t in overall})
    area = area if area is not None else AreaTerms.of(texts, settings)

    def weight(term: str) -> float:
        rarity = math.log((1 + area.needs) / (1 + max(area.counts[term], in_needs[term]))) + 1.0
        return round(in_needs[term] * rarity, 9)

    chosen: list[str] = []
    for term in sorted(overall, key=lambda t: (-weight(t), -overall[t], t)):
        if len(chosen) == settings.name_terms:
            break
        if term.isdigit() or any(term[:5] == other[:5] for other in chosen):
            continue  # no bare numbers, nor "journal" beside "journalsystem"
        chosen.append(term)
    return tuple(min(spellings[t], key=lambda w: (-spellings[t][w], len(w), w)) for t in chosen)


def _holds(words: set[str], term: str) -> bool:
    """Whether a need's words hold ``term``: the word itself, or for a term of five
    letters or more, any word containing its first five."""
    return term in words or (len(term) >= 5 and any(term[:5] in word for word in words))


def group_name(terms: Sequence[str]) -> str:
    """A name from terms, e.g. "Sykepleiere, nattvakter, helg"; at most ``MAX_NAME``
    characters (later terms are left out to fit); "Uten stikkord" when there are none."""
    kept = list(terms)
    while kept and len(", ".join(kept)) > MAX_NAME:
        kept.pop()
    if not kept:
        return (terms[0][:MAX_NAME] if terms else "Uten stikkord").capitalize()
    name = ", ".join(kept)
    return name[:1].upper() + name[1:]
