"""The Docker build context of this Astro project: which files `astro dev start` / `astro deploy`
send to the image build, read from .dockerignore the way Docker reads it.

    python tools/build_context.py                 # the context of a clean checkout, one path a line
    python tools/build_context.py --also PATH...  # plus paths a user creates (checked, not listed)

Docker's rules, as its pattern matcher (moby/patternmatcher, used by BuildKit) applies them and
as implemented below:
- one pattern a line; surrounding white space is trimmed; a line starting with `#` is a comment,
  an empty line is skipped;
- a leading `!` makes the line an exception: a path it matches is put back in the context;
- each pattern is cleaned like a path (`./a`, `a/`, `/a` and `a//b` mean `a` and `a/b`), and is
  anchored at the context root: `logs` is the top-level `logs`, never `dags/logs`;
- `*` is any run of characters but `/`, `?` one character but `/`, `[...]` a character class
  (`[!...]` or `[^...]` negated), `\\` escapes the next character;
- `**` is any number of directories, none included: `**/x` is `x` at any depth, `a/**` is
  everything under `a`;
- a pattern that matches a directory matches everything under it (the path or any of its parent
  directories may match);
- the last line that matches a path decides: excluded, or put back by a `!` line.
The Dockerfile and .dockerignore themselves are sent to the builder even when listed, but the
image's `COPY . .` (the runtime's ONBUILD step) leaves them out like any other excluded path.
"""

from __future__ import annotations

import argparse
import posixpath
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Rule:
    pattern: str
    exclusion: bool  # True for `!pattern`
    regex: re.Pattern[str]


def _clean(pattern: str) -> str:
    """Path cleaning as Go's filepath.Clean does it, then the leading `/` dropped."""
    cleaned = posixpath.normpath(pattern)
    if cleaned.startswith("//"):  # normpath keeps a leading double slash; Clean does not
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned.lstrip("/") or "."


def _translate(pattern: str) -> str:
    """A cleaned pattern as an anchored regular expression over `/`-separated relative paths."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if pattern.startswith("**", i):
                i += 2
                if i < n and pattern[i] == "/":  # `**/`: zero or more whole directories
                    i += 1
                    out.append("(?:.*/)?")
                else:  # `**` elsewhere: anything, separators included
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "^") else i + 1)
            if end == -1:
                raise ValueError(f"unterminated character class in .dockerignore: {pattern!r}")
            body = pattern[i + 1 : end]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "^" + "".join(out) + "$"


def parse(text: str) -> list[Rule]:
    """The rules of a .dockerignore file, in order."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        if not line:
            continue
        cleaned = _clean(line)
        rules.append(Rule(cleaned, exclusion, re.compile(_translate(cleaned))))
    return rules


def _parents(path: str) -> list[str]:
    """`a/b/c` -> [`a`, `a/b`]: the directories a path sits in, outermost first."""
    parts = path.split("/")
    return ["/".join(parts[:k]) for k in range(1, len(parts))]


def ignored(path: str, rules: list[Rule]) -> bool:
    """True when the relative path `path` stays out of the build context."""
    path = _clean(path)
    candidates = [path, *_parents(path)]
    excluded = False
    for rule in rules:
        if any(rule.regex.match(c) for c in candidates):
            excluded = not rule.exclusion
    return excluded


def tracked_files(root: Path = ROOT) -> list[str]:
    """The files of a clean checkout: what `git ls-files` lists (and exists on disk)."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True)
    names = [n for n in out.stdout.decode().split("\0") if n]
    return [n for n in names if (root / n).is_file()]


def context_files(root: Path = ROOT, also: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The clean checkout's files (plus `also`) that .dockerignore leaves in the build context."""
    rules = parse((root / ".dockerignore").read_text(encoding="utf-8"))
    return sorted(p for p in {*tracked_files(root), *also} if not ignored(p, rules))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--also", nargs="*", default=[], metavar="PATH",
                        help="paths a user creates, listed when not ignored")  # fmt: skip
    args = parser.parse_args(argv)
    for name in context_files(ROOT, args.also):
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
