"""A small interactions data set the tests write themselves, in the LLMRank TSV formats the harness reads.

``oscar_llm_eval recommend`` reads three files (``oscar_llm/evaluation/recommend.py``):

- items: ``item_id:token<TAB>title:token_seq`` then ``id<TAB>title``;
- histories: ``user_id<TAB>item_ids`` then ``user<TAB>space-separated item ids``, oldest first;
- eval: ``user_id<TAB>target_item_id<TAB>candidate_item_ids`` then the user's held-out next item and 20
  random items outside their history.

The shop is a games shop with structure a recommender can learn, by construction:

- **Series**: each genre is a run of titles in order (``Dragon Quest 1`` ... ``Dragon Quest 30``); a visitor
  stays within one genre and walks forward through it, a step of one or two titles at a time. What comes next
  is written in what came before (co-visitation, transitions, the sequence model), and the titles of a genre
  share words (text similarity).
- **Accessories** everyone looks at now and then (controllers, cables), a Zipf-like share each: the most
  popular items in the shop, and never the next title of a walk.
- A little **noise**: now and then a visitor glances at a title of another genre.

Held-out targets are always the next title of the user's walk, so popularity, which knows only the
accessories and a flat genre catalogue, is a weak baseline; the engine must beat it by a wide margin.
Nothing here reads ``../shared/``; the same seed writes the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

ITEMS_HEADER = "item_id:token\ttitle:token_seq"
HISTORIES_HEADER = "user_id\titem_ids"
EVAL_HEADER = "user_id\ttarget_item_id\tcandidate_item_ids"
CANDIDATES = 20

GENRES: dict[str, tuple[list[str], list[str]]] = {
    "racing": (["Turbo", "Rally", "Drift", "Grand Prix", "Street"], ["Racer", "Championship", "Circuit", "Motorsport"]),
    "football": (["Soccer", "Pro", "World", "Ultimate"], ["Football League", "Goal Manager", "Striker", "Cup"]),
    "fantasy": (["Dragon", "Elder", "Crystal", "Shadow"], ["Quest", "Kingdom", "Legends", "Sword Saga"]),
    "shooter": (["Combat", "Sniper", "Tactical", "Frontline"], ["Warfare", "Squad", "Strike Force", "Battalion"]),
    "puzzle": (["Brain", "Block", "Tetra", "Logic"], ["Puzzle", "Match", "Tiles", "Riddles"]),
    "horror": (["Haunted", "Zombie", "Silent", "Dead"], ["Mansion", "Nightmare", "Outbreak", "Asylum"]),
    "flight": (["Sky", "Jet", "Air", "Ace"], ["Pilot", "Flight Simulator", "Wings", "Dogfight"]),
    "kids": (["Bunny", "Jungle", "Rainbow", "Super"], ["Island Adventure", "Jump", "Party", "Friends"]),
}
PLATFORMS = ["PlayStation 4", "Xbox One", "Nintendo Switch", "PC"]
# The quote marks are on purpose: the harness reads TSV without quoting (QUOTE_NONE), like the real files.
ACCESSORIES = [
    "Wireless Controller - Black",
    "HDMI Cable 6ft",
    'Screen Protector 7" (2-Pack)',
    "Charging Station for Two Controllers",
    "Gaming Headset with Microphone",
    "Memory Card 64GB",
    "Carrying Case",
    "Thumb Grips 'Pro' (8-Pack)",
    "USB Charging Cable 10ft",
    "Console Cooling Fan",
]


@dataclass(frozen=True)
class Case:
    user_id: str
    target: str
    candidates: list[str]


@dataclass(frozen=True)
class LLMRankData:
    """The files written and what is in them (ids as strings, exactly as in the files)."""

    items: Path
    histories: Path
    eval: Path
    titles: dict[str, str]
    genre_of: dict[str, str]  # item id -> genre (accessories: "accessory")
    user_histories: dict[str, list[str]]
    cases: list[Case]

    @property
    def paths(self) -> dict[str, Path]:
        return {"items": self.items, "histories": self.histories, "eval": self.eval}


def write_llmrank_files(
    directory: str | Path,
    *,
    users: int = 2400,
    per_genre: int = 30,
    eval_every: int = 8,
    seed: int = 0,
) -> LLMRankData:
    """Write items.tsv, histories.tsv and eval.tsv into ``directory``; every ``eval_every``-th user is evaluated.

    The defaults give 250 items, 2,400 histories (enough for the engine's learned sequence model, which it
    trains from 2,000 histories, and to tune its blend) and 300 evaluation users.
    """
    if per_genre < 25:
        raise ValueError("per_genre must be at least 25, so that no walk comes back on itself")
    rng = np.random.default_rng(seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    titles: dict[str, str] = {}
    genre_of: dict[str, str] = {}
    series: dict[str, list[str]] = {}  # genre -> its titles' ids in series order
    for genre, (adjectives, nouns) in GENRES.items():
        series[genre] = []
        for k in range(per_genre):
            item_id = str(len(titles))
            name = f"{adjectives[k % len(adjectives)]} {nouns[(k // len(adjectives)) % len(nouns)]}"
            titles[item_id] = f"{name} {k + 1} - {PLATFORMS[int(rng.integers(len(PLATFORMS)))]}"
            genre_of[item_id] = genre
            series[genre].append(item_id)
    accessories = []
    for title in ACCESSORIES:
        item_id = str(len(titles))
        titles[item_id] = title
        genre_of[item_id] = "accessory"
        accessories.append(item_id)
    # Zipf-like shares: the first accessory is looked at most.
    share = 1.0 / np.arange(1, len(accessories) + 1)
    share /= share.sum()
    genres = list(GENRES)
    all_ids = list(titles)

    histories: dict[str, list[str]] = {}
    cases: list[Case] = []
    for u in range(users):
        user_id = str(u)
        genre = genres[int(rng.integers(len(genres)))]
        walk = series[genre]
        # At most 12 steps of one or two titles: 24 < per_genre, so a walk never comes back on itself.
        steps = int(rng.integers(5, 13))
        position = int(rng.integers(per_genre))
        visited = [walk[position]]
        for _ in range(steps):
            position = (position + (1 if rng.random() < 0.7 else 2)) % per_genre
            visited.append(walk[position])
        history: list[str] = []
        for item_id in visited[:-1]:
            history.append(item_id)
            if rng.random() < 0.2:
                history.append(accessories[int(rng.choice(len(accessories), p=share))])
            if rng.random() < 0.08:
                others = [g for g in genres if g != genre]  # never the walk's own genre: no peeking ahead
                other = others[int(rng.integers(len(others)))]
                history.append(series[other][int(rng.integers(per_genre))])
        if u % eval_every == 0:
            # Held out: the user's next title; the history in the file ends just before it.
            target = visited[-1]
            seen = set(history) | {target}
            pool = [i for i in all_ids if i not in seen]
            candidates = [pool[int(j)] for j in rng.choice(len(pool), size=CANDIDATES, replace=False)]
            cases.append(Case(user_id, target, candidates))
        else:
            history.append(visited[-1])
        histories[user_id] = history

    paths = {name: directory / f"{name}.tsv" for name in ("items", "histories", "eval")}
    _write(paths["items"], ITEMS_HEADER, (f"{i}\t{t}" for i, t in titles.items()))
    _write(paths["histories"], HISTORIES_HEADER, (f"{u}\t{' '.join(h)}" for u, h in histories.items()))
    _write(paths["eval"], EVAL_HEADER, (f"{c.user_id}\t{c.target}\t{' '.join(c.candidates)}" for c in cases))
    return LLMRankData(
        items=paths["items"],
        histories=paths["histories"],
        eval=paths["eval"],
        titles=titles,
        genre_of=genre_of,
        user_histories=histories,
        cases=cases,
    )


def _write(path: Path, header: str, rows) -> None:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
