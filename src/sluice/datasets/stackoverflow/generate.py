"""A deterministic, realistic StackOverflow2010 generator that streams rows per table.

Every table is produced by its own generator seeded from (seed, table name), so
tables can be produced in any order and the same seed always gives the same
rows. Keys have gaps (every tenth Id is missing, as deleted rows leave them),
Users start with the Community user (-1), and references always point at rows
that exist and were created earlier: a post's owner registered before the post,
an answer's parent question came first, a vote falls on an existing post.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from sluice.core.errors import ConfigError
from sluice.core.progress import Reporter
from sluice.core.schema import order_by_references
from sluice.core.urls import DbUrl
from sluice.datasets.loader import LoadResult, load_tables
from sluice.datasets.stackoverflow import text
from sluice.datasets.stackoverflow.schema import FOREIGN_KEYS, ROW_COUNTS, TABLE_NAMES, TABLES

DEFAULT_SEED = 2010
START = datetime(2008, 7, 31)
END = datetime(2010, 12, 31, 23, 59, 59)
SPAN = (END - START).total_seconds()
DAY = 86_400.0
MAX_SCALE = 100.0

VOTE_TYPES = (
    (1, "AcceptedByOriginator"), (2, "UpMod"), (3, "DownMod"), (4, "Offensive"),
    (5, "Favorite"), (6, "Close"), (7, "Reopen"), (8, "BountyStart"), (9, "BountyClose"),
    (10, "Deletion"), (11, "Undeletion"), (12, "Spam"), (13, "InformModerator"),
    (15, "ModeratorReview"), (16, "ApproveEditSuggestion"),
)  # fmt: skip
_VOTE_WEIGHTS = ((2, 70.0), (3, 8.0), (1, 6.0), (5, 10.0), (6, 2.0), (10, 1.0), (8, 0.5),
                 (9, 0.5), (7, 0.5), (11, 0.3), (12, 0.4), (13, 0.3), (15, 0.3), (16, 0.2),
                 (4, 0.2))  # fmt: skip
_HISTORY_WEIGHTS = ((2, 45.0), (1, 12.0), (3, 12.0), (5, 15.0), (4, 5.0), (6, 4.0),
                    (10, 2.0), (16, 3.0), (24, 2.0))  # fmt: skip
_MASK = (1 << 64) - 1


def row_counts(scale: float) -> dict[str, int]:
    """Rows per table at `scale` (1.0 = StackOverflow2010); VoteTypes is always 15."""
    if not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ConfigError(f"scale must be a number > 0, got {scale!r}")
    if scale > MAX_SCALE:
        raise ConfigError(f"scale must be at most {MAX_SCALE:g}, got {scale!r}")
    counts = {t: max(1, round(n * scale)) for t, n in ROW_COUNTS.items()}
    counts["VoteTypes"] = len(VOTE_TYPES)
    return counts


def key(i: int) -> int:
    """The Id of the i-th row (0-based): every tenth Id is missing, as in real data."""
    return i + 1 + i // 9


def user_key(u: int) -> int:
    return -1 if u == 0 else key(u - 1)


def _h(seed: int, i: int) -> float:
    """A stateless uniform [0, 1) for row i: lets one table decide what another one holds."""
    x = (i * 0x9E3779B97F4A7C15 + seed) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return (x ^ (x >> 31)) / 2.0**64


def _stamp(rng: random.Random, seconds: float) -> datetime:
    """A datetime with SQL Server datetime precision (1/300 s ticks, shown as .000/.003/.007)."""
    seconds = min(max(seconds, 0.0), SPAN)
    ms = (rng.randrange(300) * 10 + 1) // 3
    return START + timedelta(seconds=int(seconds), milliseconds=ms if seconds < SPAN else 0)


def _after(rng: random.Random, index: int, count: int, mean_days: float) -> float:
    """Seconds from START to a moment after row `index` of `count` was created."""
    return (index + 1) / count * SPAN + rng.expovariate(1.0 / (mean_days * DAY))


def _weighted(weights: Sequence[tuple[int, float]]) -> tuple[list[int], list[float]]:
    values = [v for v, _ in weights]
    total = sum(w for _, w in weights)
    acc, cum = 0.0, []
    for _, w in weights:
        acc += w / total
        cum.append(acc)
    return values, cum


class Generator:
    """Row streams for every table at one scale and seed."""

    def __init__(self, scale: float, seed: int = DEFAULT_SEED):
        self.counts = row_counts(scale)
        self.seed = seed
        self.pool = text.TextPool(seed)

    def rng(self, table: str) -> random.Random:
        return random.Random(f"{self.seed}:{table}")

    def rows(self, table: str) -> Iterator[tuple]:
        if table not in TABLES:
            raise ConfigError(f"unknown StackOverflow2010 table {table!r}")
        method = "_tags_table" if table == "Tags" else f"_{table.lower()}"
        return getattr(self, method)()

    # Each generator yields tuples in the schema's column order.

    def _votetypes(self) -> Iterator[tuple]:
        yield from VOTE_TYPES

    def _users(self) -> Iterator[tuple]:
        rng, pool, n = self.rng("Users"), self.pool, self.counts["Users"]
        about = "<p>Hi, I'm not really a person.</p>"
        site = "http://meta.stackoverflow.com/"
        yield (-1, about, None, START, "Community", 0, None,
               START, "on the server farm", 1, 0, 0, site, -1)  # fmt: skip
        for u in range(1, n):
            created = u / n * SPAN + rng.random() * SPAN / n
            rep = max(1, int(rng.lognormvariate(3.0, 2.0)))
            yield (
                user_key(u),
                pool.body(rng, mean=300) if rng.random() < 0.4 else None,
                rng.randint(16, 70) if rng.random() < 0.3 else None,
                _stamp(rng, created),
                text.display_name(rng, user_key(u)),
                int(rep * rng.random() * 0.05),
                None,  # EmailHash: blanked in the public data
                _stamp(rng, created + rng.random() * (SPAN - created)),
                rng.choice(text.PLACES) if rng.random() < 0.5 else None,
                rep,
                int(rep * rng.random() * 0.5),
                int(rep * rng.random() * 2),
                f"http://{text.NAMES_LAST[u % 10].lower()}{u}.example.com"
                if rng.random() < 0.3
                else None,
                u * 3 + 7 if rng.random() < 0.98 else None,
            )

    def _posts(self) -> Iterator[tuple]:
        rng, pool, s = self.rng("Posts"), self.pool, self.seed
        n, n_users, n_tags = self.counts["Posts"], self.counts["Users"], self.counts["Tags"]
        for i in range(n):
            created = i / n * SPAN + rng.random() * SPAN / n
            question = i % 3 == 0
            known_users = max(1, int((i + 1) / n * n_users))
            owner = None if rng.random() < 0.01 else user_key(rng.randrange(known_users))
            edited = rng.random() < 0.4
            editor = (
                user_key(rng.randrange(known_users)) if edited and rng.random() < 0.95 else None
            )
            last_activity = created + rng.expovariate(1 / (30 * DAY))
            score = int(rng.gauss(2, 4)) if rng.random() < 0.9 else int(rng.lognormvariate(3, 1.2))
            if question:
                accepted = (
                    key(i + 1) if i + 1 < n and _h(s, i + 1) < 0.7 and rng.random() < 0.55 else None
                )
                yield (
                    key(i), accepted, rng.randint(0, 6), pool.body(rng),
                    _stamp(rng, created + rng.random() * 90 * DAY) if rng.random() < 0.05 else None,
                    rng.randint(0, 8),
                    _stamp(rng, created + rng.random() * 60 * DAY) if rng.random() < 0.02 else None,
                    _stamp(rng, created),
                    rng.randint(1, 60) if rng.random() < 0.4 else None,
                    _stamp(rng, last_activity),
                    _stamp(rng, created + rng.random() * 20 * DAY) if edited else None,
                    text.display_name(rng, 0) if edited and editor is None else None,
                    editor, owner, None, 1, score, self._tags(rng, n_tags), pool.title(rng),
                    int(rng.lognormvariate(5.5, 1.5)),
                )  # fmt: skip
            else:
                parent = i - i % 3 if _h(s, i) < 0.7 else 3 * rng.randrange(i // 3 + 1)
                yield (
                    key(i), None, None, pool.body(rng), None, rng.randint(0, 5),
                    _stamp(rng, created + rng.random() * 60 * DAY) if rng.random() < 0.02 else None,
                    _stamp(rng, created), None, _stamp(rng, last_activity),
                    _stamp(rng, created + rng.random() * 20 * DAY) if edited else None,
                    text.display_name(rng, 0) if edited and editor is None else None,
                    editor, owner, key(parent), 2, score, None, None, 0,
                )  # fmt: skip

    @staticmethod
    def _tags(rng: random.Random, n_tags: int) -> str:
        names: list[str] = []
        for _ in range(rng.randint(1, 5)):
            name = text.tag_name(int(n_tags * rng.random() ** 3))
            if name not in names and sum(len(x) + 2 for x in names) + len(name) + 2 <= 150:
                names.append(name)
        return "".join(f"<{x}>" for x in names)

    def _tags_table(self) -> Iterator[tuple]:
        rng, n, n_posts = self.rng("Tags"), self.counts["Tags"], self.counts["Posts"]  # noqa: E501
        for k in range(n):
            has_wiki = rng.random() < 0.4
            flag = rng.random()
            yield (
                key(k), text.tag_name(k), max(1, int(n_posts * 0.3 / (k + 1) ** 0.9)),
                key(rng.randrange(n_posts)) if has_wiki else None,
                key(rng.randrange(n_posts)) if has_wiki else None,
                None if flag < 0.95 else flag < 0.97,
                None if flag < 0.95 else flag > 0.99,
            )  # fmt: skip

    def _badges(self) -> Iterator[tuple]:
        rng, n, n_users = self.rng("Badges"), self.counts["Badges"], self.counts["Users"]
        for j in range(n):
            u = min(n_users - 1, int((j + rng.random()) * n_users / n))
            yield (key(j), rng.choice(text.BADGES), user_key(u),
                   _stamp(rng, _after(rng, u, n_users, 20)))  # fmt: skip

    def _comments(self) -> Iterator[tuple]:
        rng, pool, n = self.rng("Comments"), self.pool, self.counts["Comments"]
        n_posts, n_users = self.counts["Posts"], self.counts["Users"]
        for j in range(n):
            p = min(n_posts - 1, int((j + rng.random()) * n_posts / n))
            known = max(1, int((p + 1) / n_posts * n_users))
            yield (
                key(j), _stamp(rng, _after(rng, p, n_posts, 3)), key(p),
                (0 if rng.random() < 0.8 else rng.randint(1, 40)) if rng.random() < 0.99 else None,
                pool.sentence(rng, 700),
                user_key(rng.randrange(known)) if rng.random() < 0.98 else None,
            )  # fmt: skip

    def _posthistory(self) -> Iterator[tuple]:
        rng, pool, n = self.rng("PostHistory"), self.pool, self.counts["PostHistory"]
        n_posts, n_users = self.counts["Posts"], self.counts["Users"]
        kinds, cum = _weighted(_HISTORY_WEIGHTS)
        for j in range(n):
            p = min(n_posts - 1, int((j + rng.random()) * n_posts / n))
            kind = kinds[min(_bisect(cum, rng.random()), len(kinds) - 1)]
            known = max(1, int((p + 1) / n_posts * n_users))
            user = user_key(rng.randrange(known)) if rng.random() < 0.98 else None
            edit = kind in (4, 5, 6) and rng.random() < 0.6
            if kind in (2, 5):
                body = pool.body(rng)
            elif kind in (1, 4):
                body = pool.title(rng)
            elif kind in (3, 6):
                body = self._tags(rng, self.counts["Tags"])
            else:
                body = '{"Voters":[{"Id":' + str(user or 1) + "}]}" if rng.random() < 0.5 else None
            yield (
                key(j), kind, key(p), uuid.UUID(int=rng.getrandbits(128), version=4),
                _stamp(rng, _after(rng, p, n_posts, 10)), user,
                text.display_name(rng, 0) if user is None and rng.random() < 0.5 else None,
                rng.choice(text.EDIT_COMMENTS) if edit else None,
                body,
            )  # fmt: skip

    def _postlinks(self) -> Iterator[tuple]:
        rng, n, n_posts = self.rng("PostLinks"), self.counts["PostLinks"], self.counts["Posts"]
        for j in range(n):
            p = min(n_posts - 1, int((j + rng.random()) * n_posts / n))
            related = rng.randrange(p) if p > 0 else 0
            yield (key(j), _stamp(rng, _after(rng, p, n_posts, 15)), key(p), key(related),
                   3 if rng.random() < 0.15 else 1)  # fmt: skip

    def _votes(self) -> Iterator[tuple]:
        rng, n, n_posts = self.rng("Votes"), self.counts["Votes"], self.counts["Posts"]
        n_users = self.counts["Users"]
        kinds, cum = _weighted(_VOTE_WEIGHTS)
        for j in range(n):
            p = min(n_posts - 1, int((j + rng.random()) * n_posts / n))
            kind = kinds[min(_bisect(cum, rng.random()), len(kinds) - 1)]
            day = START + timedelta(days=int(min(_after(rng, p, n_posts, 20), SPAN) // DAY))
            user = bounty = None
            if kind in (5, 8):
                user = user_key(rng.randrange(max(1, int((p + 1) / n_posts * n_users))))
            if kind in (8, 9):
                bounty = rng.choice((50, 100, 150, 200, 250, 300, 500))
            yield (key(j), key(p), user, bounty, kind, day)


def _bisect(cum: list[float], x: float) -> int:
    lo, hi = 0, len(cum)
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def generate(
    target: DbUrl,
    scale: float,
    *,
    seed: int = DEFAULT_SEED,
    tables: Sequence[str] | None = None,
    replace: bool = False,
    reporter: Reporter | None = None,
) -> list[LoadResult]:
    """Create the StackOverflow2010 schema in `target` and fill it at `scale`."""
    gen = Generator(scale, seed)
    wanted = _select(tables)
    ordered = order_by_references([TABLES[t] for t in wanted], FOREIGN_KEYS)
    totals: dict[str, int | None] = dict(gen.counts)
    return load_tables(
        target,
        ordered,
        lambda t: gen.rows(t.name),
        totals=totals,
        replace=replace,
        reporter=reporter,
    )


def _select(tables: Sequence[str] | None) -> list[str]:
    if not tables:
        return list(TABLE_NAMES)
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise ConfigError(
            f"unknown table(s) {', '.join(unknown)}; StackOverflow2010 has {', '.join(TABLE_NAMES)}"
        )
    return list(tables)
