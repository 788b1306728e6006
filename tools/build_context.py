"""The Docker build context of this Astro project: which files `astro dev start` / `astro deploy`
send to the image build, read from .dockerignore the way Docker reads it.

    python tools/build_context.py                 # the context of a clean checkout, one path a line
    python tools/build_context.py --also PATH...  # plus paths a user creates (checked, not listed)

Docker's rules, as its .dockerignore reader and pattern matcher (moby/patternmatcher and its
ignorefile package, used by BuildKit) apply them, and as implemented below:
- one pattern a line; surrounding white space is trimmed; a line starting with `#` is a comment,
  an empty line is skipped;
- a leading `!` makes the line an exception: a path it matches is put back in the context (a
  `!` alone is an error);
- each pattern is cleaned like a path (`./a`, `a/` and `a//b` mean `a` and `a/b`) and a leading
  `/` is dropped: patterns are anchored at the context root, `logs` is the top-level `logs`,
  never `dags/logs`;
- `*` is any run of characters but `/`, `?` one character but `/`, `\\` makes the next character
  literal; `[` and `]` pass to a regular expression as they are, so `[abc]` and `[^abc]` are
  character classes (`[!abc]` is the class of `!`, `a`, `b`, `c`: not a negation);
- `**` followed by `/` (or not) is any number of directories, none included: `**/x` is `x` at
  any depth; a trailing `**` is anything: `a/**` is everything under `a`; a pattern that starts
  with `**` and is literal after it is matched as a suffix (`**/x.db` is any path ending in
  `/x.db`, or `x.db`);
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
_REGEX_SPECIALS = set(".+()|{}$")  # escaped; every other character passes as it is


@dataclass(frozen=True)
class Rule:
    pattern: str  # cleaned, without the `!`
    exclusion: bool  # True for `!pattern`: the path goes back in
    kind: str  # exact | prefix | suffix | regexp, as Docker's matcher classifies the pattern
    text: str  # the literal (exact, prefix, suffix) or the regular expression

    def matches(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text)
        if self.kind == "suffix":
            return path.endswith(self.text) or (self.text.startswith("/") and path == self.text[1:])
        return re.match(self.text, path) is not None


def _clean(pattern: str) -> str:
    """Path cleaning as Go's filepath.Clean does it (a leading `//` becomes `/`)."""
    cleaned = posixpath.normpath(pattern)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def _compile(pattern: str, exclusion: bool) -> Rule:
    """A cleaned pattern classified and translated the way Docker's matcher compiles it."""
    regex, kind = "^", "exact"
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*" and pattern.startswith("**", i):
            starts = i == 0
            i += 2
            if i < n and pattern[i] == "/":  # `**/` is read as `**`
                i += 1
            if i == n:  # a trailing `**`: everything below
                if kind == "exact":
                    kind = "prefix"
                else:
                    regex, kind = regex + ".*", "regexp"
            else:
                regex, kind = regex + "(.*/)?", "regexp"
            if starts:
                kind = "suffix"
            continue
        if ch == "*":
            regex, kind = regex + "[^/]*", "regexp"
        elif ch == "?":
            regex, kind = regex + "[^/]", "regexp"
        elif ch in _REGEX_SPECIALS:
            regex += "\\" + ch
        elif ch == "\\":
            if i + 1 < n:
                i += 1
                regex, kind = regex + "\\" + pattern[i], "regexp"
            else:
                regex += "\\\\"
        elif ch in "[]":
            regex, kind = regex + ch, "regexp"
        else:
            regex += ch
        i += 1
    if kind == "regexp":
        text = regex + "$"
        try:
            re.compile(text)
        except re.error as exc:
            raise ValueError(f"bad .dockerignore pattern {pattern!r}: {exc}") from None
    elif kind == "prefix":
        text = pattern[:-2]
    elif kind == "suffix":
        text = pattern[2:]
    else:
        text = pattern
    return Rule(pattern, exclusion, kind, text)


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
                raise ValueError("illegal exclusion pattern in .dockerignore: a `!` alone")
        cleaned = _clean(line)
        if len(cleaned) > 1 and cleaned.startswith("/"):
            cleaned = cleaned[1:]
        rules.append(_compile(cleaned, exclusion))
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
        if any(rule.matches(c) for c in candidates):
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
