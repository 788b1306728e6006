"""Deterministic text that looks like Stack Overflow: HTML paragraphs, code, many scripts.

Pools of fragments are built once from a fixed seed; bodies are assembled by
picking fragments, which is fast and still varied. Emoji (outside the Basic
Multilingual Plane, two UTF-16 units each) appear only in unbounded columns, so
bounded `nvarchar(n)` columns never overflow on SQL Server.
"""

from __future__ import annotations

import math
import random

TECH = (
    "array list string function class method object variable loop query table index join "
    "server client request response thread process memory pointer reference value type "
    "compiler runtime exception error stack heap cache buffer stream file path directory "
    "database column row key transaction commit rollback lock cursor schema view trigger "
    "python java javascript jquery android iphone php mysql sql html css ajax json xml "
    "regex linq wpf winforms asp.net django rails ruby perl bash linux windows osx eclipse "
    "visual-studio git svn build deploy test debug performance security encoding unicode "
    "parse format convert sort filter map reduce hash tree graph node element attribute "
    "event handler callback promise async await timeout socket http url cookie session"
).split()

PLAIN = (
    "the a an is are was it this that how what why when I you we can cannot should would "
    "need want try tried use using get set make work works working doesn't does not but "
    "and or if then else with without from into for of on in at by to my your its some "
    "any every each all only also just still already however because so thanks please"
).split()

# Real words from other scripts: every byte path (2-, 3- and 4-byte UTF-8) gets exercised.
WORLD = (
    "café naïve résumé façade Zürich São Größe Straße Ærø Łódź Ñandú "
    "données ошибка данные привет Москва ελληνικά λάθος "
    "שלום שגיאה مرحبا خطأ हिन्दी त्रुटि 日本語 エラー 文字列 中文 错误 数据库 한국어 오류 ไทย"
).split()

EMOJI = ("😀", "🚀", "🐍", "☕", "✅", "🔥", "🤔", "👍")

NAMES_FIRST = (
    "John Maria José Zoë Łukasz Søren Ana Jürgen Chen Priya Ahmed Olga Dmitri Yuki Fatima "
    "Lars Siobhán Mateus Aiko Kwame Ingrid Raúl Nadia Tomás Mei Hans Ewa Ömer Björn Amélie"
).split()
NAMES_LAST = (
    "Smith Müller García Nguyen Kowalski Johansson Rossi Dubois Ivanov Tanaka Kim Singh "
    "O'Brien da Silva Novák Jensen Öztürk Schäfer Łopez Петров 李 Ямада Hernández Costa"
).split()
PLACES = (
    "London, United Kingdom",
    "São Paulo, Brazil",
    "Zürich, Switzerland",
    "Kraków, Poland",
    "München, Germany",
    "Bangalore, India",
    "Москва, Россия",
    "東京, 日本",
    "Seattle, WA",
    "New York, NY",
    "Toronto, Canada",
    "Paris, France",
    "Tel Aviv, Israel",
    "Québec, Canada",
    "Sydney, Australia",
    "Reykjavík, Iceland",
    "Cairo, Egypt",
    "Seoul, Korea",
    "Amsterdam",
)

BADGES = (
    "Teacher",
    "Student",
    "Editor",
    "Supporter",
    "Autobiographer",
    "Scholar",
    "Critic",
    "Commentator",
    "Nice Answer",
    "Popular Question",
    "Notable Question",
    "Famous Question",
    "Good Answer",
    "Great Answer",
    "Enlightened",
    "Necromancer",
    "Yearling",
    "Citizen Patrol",
    "Organizer",
    "Tumbleweed",
    "Self-Learner",
    "Civic Duty",
    "Cleanup",
    "Pundit",
    "Guru",
    "Nice Question",
    "Good Question",
    "Great Question",
    "Favorite Question",
    "Stellar Question",
    "Mortarboard",
    "Taxonomist",
    "Strunk & White",
    "Copy Editor",
    "Epic",
    "Legendary",
    "python",
    "c#",
    "java",
    ".net",
    "javascript",
)

TAG_BASE = (
    "c#",
    "java",
    "php",
    "javascript",
    ".net",
    "jquery",
    "android",
    "c++",
    "iphone",
    "python",
    "asp.net",
    "sql",
    "mysql",
    "html",
    "objective-c",
    "sql-server",
    "css",
    "ruby-on-rails",
    "c",
    "ruby",
    "xml",
    "ajax",
    "regex",
    "linux",
    "wpf",
    "django",
    "windows",
    "database",
    "silverlight",
    "xcode",
    "visual-studio",
    "asp.net-mvc",
    "linq",
    "perl",
    "eclipse",
    "json",
    "spring",
    "hibernate",
    "flex",
    "cocoa",
    "sql-server-2005",
    "oracle",
    "winforms",
    "vb.net",
    "git",
    "multithreading",
    "performance",
    "string",
    "algorithm",
    "security",
    "bash",
)
TAG_SUFFIX = ("2008", "3.5", "4.0", "api", "mvc", "ui", "orm", "config", "testing", "deploy")

EDIT_COMMENTS = (
    "edited body",
    "added 12 characters in body",
    "edited tags",
    "Corrected spelling",
    "Formatting",
    "deleted 3 characters in body; edited title",
    "code formatting",
    "Rollback to Revision 1",
    "retagged",
    "fixed grammar – thanks @José",
    "clarified question",
)

COMMENT_TAILS = (
    "Have you tried that?",
    "Thanks, that worked!",
    "This is a duplicate.",
    "+1 great answer",
    "See the docs: http://msdn.microsoft.com/en-us/library",
    "Can you post the full stack trace?",
    "What version are you on?",
    "That's not thread-safe.",
    "Works for me in 3.5 SP1.",
)


def _words(rng: random.Random, n: int, *, world: float = 0.04) -> str:
    out = []
    for _ in range(n):
        r = rng.random()
        if r < world:
            out.append(rng.choice(WORLD))
        elif r < 0.45:
            out.append(rng.choice(TECH))
        else:
            out.append(rng.choice(PLAIN))
    return " ".join(out)


def _paragraph(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        s = _words(rng, rng.randint(6, 28))
        r = rng.random()
        if r < 0.25:
            s += f" <code>{rng.choice(TECH)}()</code>"
        elif r < 0.35:
            s += f' <a href="http://example.com/{rng.choice(TECH)}?a=1&amp;b=2">link</a>'
        elif r < 0.40:
            s += " " + rng.choice(EMOJI)
        elif r < 0.45:
            s += " &lt;T&gt; &amp; &quot;quoted&quot;"
        parts.append(s[0].upper() + s[1:] + rng.choice((".", "?", "!", ".")))
    return "<p>" + " ".join(parts) + "</p>\n\n"


def _code(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(2, 14)):
        indent = "\t" if rng.random() < 0.3 else " " * rng.choice((0, 4, 8))
        kind = rng.random()
        if kind < 0.3:
            line = f'{rng.choice(TECH)} = "{_words(rng, 3)}\\n";'
        elif kind < 0.5:
            word, n = rng.choice(WORLD), rng.randint(0, 99)
            line = f"if ({rng.choice(TECH)} &lt; {n}) {{ return '{word}'; }}"
        elif kind < 0.65:
            line = f"path = 'C:\\\\Users\\\\{rng.choice(NAMES_FIRST)}\\\\file.txt'"
        elif kind < 0.8:
            line = f"// {_words(rng, 5)}"
        else:
            line = f"SELECT * FROM {rng.choice(TECH)} WHERE id = {rng.randint(1, 9999)};"
        lines.append(indent + line)
    return "<pre><code>" + "\n".join(lines) + "\n</code></pre>\n\n"


class TextPool:
    """Fragments built once per seed; `body()` assembles HTML of a log-normal length."""

    def __init__(self, seed: int):
        rng = random.Random(f"text:{seed}")
        self.paragraphs = [_paragraph(rng) for _ in range(3000)]
        self.codes = [_code(rng) for _ in range(800)]
        self.sentences = [_words(rng, rng.randint(3, 30), world=0.06) for _ in range(3000)]
        self.titles = [_title(rng) for _ in range(3000)]

    def body(self, rng: random.Random, mean: float = 1000.0, sigma: float = 0.85) -> str:
        """Fragments until a log-normal target length is reached; averages ~1.2k characters."""
        mu = math.log(mean) - sigma * sigma / 2
        target = min(rng.lognormvariate(mu, sigma), 30_000)
        parts, size = [], 0
        while size < target:
            frag = rng.choice(self.codes) if rng.random() < 0.3 else rng.choice(self.paragraphs)
            parts.append(frag)
            size += len(frag)
        return "".join(parts)

    def sentence(self, rng: random.Random, limit: int) -> str:
        """Plain text (no emoji) no longer than `limit` characters."""
        s = rng.choice(self.sentences)
        if rng.random() < 0.5:
            s += " " + rng.choice(self.sentences)
        if rng.random() < 0.3:
            s += " " + rng.choice(COMMENT_TAILS)
        s = s[0].upper() + s[1:]
        return s[:limit].rstrip() or "ok"

    def title(self, rng: random.Random) -> str:
        return rng.choice(self.titles)


def _title(rng: random.Random) -> str:
    lead = rng.choice(("How do I", "Why does", "What is the best way to", "Can I", "How to"))
    s = f"{lead} {_words(rng, rng.randint(3, 14), world=0.05)}?"
    return s[:250]


def tag_name(k: int) -> str:
    """The k-th tag name: unique for every k, popular tags first."""
    if k < len(TAG_BASE):
        return TAG_BASE[k]
    k -= len(TAG_BASE)
    base = TAG_BASE[k % len(TAG_BASE)]
    suffix = TAG_SUFFIX[(k // len(TAG_BASE)) % len(TAG_SUFFIX)]
    n = k // (len(TAG_BASE) * len(TAG_SUFFIX))
    return f"{base}-{suffix}" if n == 0 else f"{base}-{suffix}{n + 1}"


def display_name(rng: random.Random, uid: int) -> str:
    r = rng.random()
    if r < 0.35:
        return f"user{uid}"
    if r < 0.75:
        return f"{rng.choice(NAMES_FIRST)} {rng.choice(NAMES_LAST)}"[:40]
    return f"{rng.choice(NAMES_FIRST)}{rng.randint(1, 999)}"
