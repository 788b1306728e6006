"""Where a Stack Exchange dump's XML documents are, and their bytes, streamed.

A dump comes in three shapes, all read without unpacking first (docs/adr/0031):

* a folder of XML files (Posts.xml, Users.xml, ...), names matched case-insensitively;
* a site's `.7z` (coffee.stackexchange.com.7z) holding those XML files;
* a folder of per-table `.7z` files, stackoverflow.com's layout (stackoverflow.com-Posts.7z
  holding Posts.xml), possibly beside some already extracted XML files, which win.

An archive member is decompressed by py7zr in a thread that hands chunks to the reader over
a queue of `QUEUE_CHUNKS` places: the reader (expat, push-based) takes them as they come, so
memory holds a few chunks and the XML is never written to disk.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.core.errors import InputFileError

log = logging.getLogger(__name__)

READ_BYTES = 1 << 18  # 256 KiB per read of a plain file
# Decompressed chunks waiting for the parser. py7zr writes what one 1 MiB read of compressed
# input gives (~5-10 MB of dump XML; at most 128 MB, py7zr's own cap), so a few places are
# a few of those chunks whatever the member's size.
QUEUE_CHUNKS = 2
ARCHIVE_SUFFIX = ".7z"

# The dump's file for each table; VoteTypes has none (its 15 rows are fixed, see VOTE_TYPES).
DUMP_FILES: dict[str, str] = {
    "Badges": "Badges.xml",
    "Comments": "Comments.xml",
    "PostHistory": "PostHistory.xml",
    "PostLinks": "PostLinks.xml",
    "Posts": "Posts.xml",
    "Tags": "Tags.xml",
    "Users": "Users.xml",
    "Votes": "Votes.xml",
}


@dataclass(frozen=True)
class DumpFile:
    """One table's XML document: a file (`member` None) or a member of the `.7z` at `path`."""

    path: Path
    member: str | None = None

    def __str__(self) -> str:
        return str(self.path) if self.member is None else f"{self.path}:{self.member}"

    def chunks(self) -> Iterator[bytes]:
        """The document's bytes in order; closing the iterator early stops any extraction."""
        if self.member is None:
            return _file_chunks(self.path)
        return _member_chunks(self.path, self.member)


def as_dump_file(source: DumpFile | str | Path) -> DumpFile:
    return source if isinstance(source, DumpFile) else DumpFile(Path(source))


# --- discovery ---------------------------------------------------------------------------------


def find_files(location: str | Path, wanted: Sequence[str], strict: bool) -> dict[str, DumpFile]:
    """The document of each table in `wanted` that the dump has; with `strict`, a missing one
    is an error naming the file expected. Archives are opened (their header only) here, so a
    bad archive stops the import before any database is touched."""
    root = Path(location).expanduser()
    if root.is_file() and root.name.lower().endswith(ARCHIVE_SUFFIX):
        return _in_site_archive(root, wanted, strict)
    if not root.is_dir():
        what = "is not a directory or a .7z archive" if root.exists() else "no such directory"
        raise InputFileError(root, f"{what}; expected a folder holding Posts.xml, Users.xml, ...")
    xml: dict[str, list[Path]] = {}
    archives: dict[str, list[Path]] = {}
    for entry in root.iterdir():
        if not entry.is_file():
            continue
        name = entry.name.lower()
        xml.setdefault(name, []).append(entry)
        if name.endswith(ARCHIVE_SUFFIX):  # stackoverflow.com-Posts.7z or Posts.7z
            table_part = name[: -len(ARCHIVE_SUFFIX)].rsplit("-", 1)[-1]
            archives.setdefault(table_part, []).append(entry)
    found: dict[str, DumpFile] = {}
    for table in wanted:
        file_name = DUMP_FILES[table]
        plain = _one(root, xml.get(file_name.lower(), []))
        packed = _one(root, archives.get(table.lower(), []))
        if plain is not None:
            found[table] = DumpFile(plain)
            if packed is not None:
                log.info("%s: reading %s, not %s beside it", table, plain.name, packed.name)
        elif packed is not None:
            found[table] = _member(packed, file_name)
        elif strict:
            raise InputFileError(root / file_name, f"no such file (needed for {table})")
    return found


def _one(root: Path, matches: list[Path]) -> Path | None:
    if len(matches) > 1:
        names = ", ".join(p.name for p in sorted(matches))
        raise InputFileError(root, f"{names} differ only in case; keep one")
    return matches[0] if matches else None


def _in_site_archive(archive: Path, wanted: Sequence[str], strict: bool) -> dict[str, DumpFile]:
    members = _member_names(archive)
    found: dict[str, DumpFile] = {}
    for table in wanted:
        file_name = DUMP_FILES[table]
        matches = _named(members, file_name)
        if len(matches) > 1:
            raise InputFileError(archive, f"{', '.join(sorted(matches))}: one {file_name} only")
        if matches:
            found[table] = DumpFile(archive, matches[0])
        elif strict:
            raise InputFileError(archive, f"holds no {file_name} (needed for {table})")
    return found


def _member(archive: Path, file_name: str) -> DumpFile:
    """The per-table archive's member `file_name`: it holds that document (or only one)."""
    members = _member_names(archive)
    matches = _named(members, file_name)
    if len(matches) == 1:
        return DumpFile(archive, matches[0])
    held = ", ".join(members[:5]) or "nothing"
    raise InputFileError(archive, f"expected one {file_name} inside; it holds {held}")


def _named(members: Sequence[str], file_name: str) -> list[str]:
    """The members called `file_name` (in any folder of the archive, in any case)."""
    return [m for m in members if m.rsplit("/", 1)[-1].lower() == file_name.lower()]


def _member_names(archive: Path) -> list[str]:
    """The files in a .7z (directories left out), from its header."""
    py7zr = _py7zr()
    try:
        with py7zr.SevenZipFile(archive, mode="r") as z:
            if z.needs_password():
                raise InputFileError(archive, "is encrypted; dumps are not: re-download it")
            return [f.filename for f in z.list() if not f.is_directory]
    except (py7zr.Bad7zFile, py7zr.exceptions.UnsupportedCompressionMethodError, EOFError) as exc:
        detail = str(exc) or type(exc).__name__
        raise InputFileError(archive, f"not a readable .7z archive ({detail})") from None


def _py7zr() -> Any:
    try:
        import py7zr
        import py7zr.exceptions
    except ImportError:  # pragma: no cover - a dependency of sluice
        raise InputFileError("py7zr", "reading .7z dumps needs py7zr: pip install py7zr") from None
    return py7zr


def hint(root: Path) -> str:
    """Point at the likely mistake: site archives or site folders inside the folder given."""
    if not root.is_dir():
        return ""
    archives = [p.name for p in sorted(root.iterdir()) if p.name.lower().endswith(ARCHIVE_SUFFIX)]
    if archives:
        return f" (pass one of the archives inside: {', '.join(archives[:5])})"
    sites = [p.name for p in sorted(root.iterdir()) if p.is_dir() and (p / "Posts.xml").exists()]
    return f" (site folders inside: {', '.join(sites[:5])})" if sites else ""


# --- bytes -------------------------------------------------------------------------------------


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(READ_BYTES):
            yield chunk


class _Stopped(Exception):
    """Raised inside py7zr's write when the reader went away: ends the extraction thread."""


_END = object()


def _member_chunks(archive: Path, member: str) -> Iterator[bytes]:
    """The member's decompressed bytes, as py7zr produces them in a thread of its own."""
    py7zr = _py7zr()
    from py7zr.io import Py7zIO, WriterFactory

    handover: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_CHUNKS)
    stop = threading.Event()

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                handover.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        raise _Stopped

    class Writer(Py7zIO):
        """Hands each chunk over; keeps nothing (py7zr's BytesIO writers keep the member)."""

        def write(self, s: bytes | bytearray) -> int:
            put(s)  # a fresh object per call that py7zr does not touch again: no copy
            return len(s)

        def read(self, size: int | None = None) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return 0

        def flush(self) -> None:
            return None

        def size(self) -> int:
            return 0

        def seekable(self) -> bool:  # py7zr rewinds seekable writers when a member ends
            return False

    class Factory(WriterFactory):
        def create(self, filename: str) -> Py7zIO:
            return Writer()

    def extract() -> None:
        try:
            with py7zr.SevenZipFile(archive, mode="r") as z:
                z.extract(targets=[member], factory=Factory())
            put(_END)
        except _Stopped:
            return
        except Exception as exc:  # handed to the reader, which raises it with the file named
            try:
                put(exc)
            except _Stopped:
                return

    worker = threading.Thread(target=extract, name=f"7z {archive.name}:{member}", daemon=True)
    worker.start()
    try:
        while True:
            item = handover.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise _archive_error(archive, member, item)
            yield item
    finally:
        stop.set()
        worker.join()


def _archive_error(archive: Path, member: str, exc: BaseException) -> InputFileError:
    what = type(exc).__name__
    detail = str(exc).strip()
    message = f"cannot decompress: {what}{': ' + detail if detail else ''} (damaged archive?)"
    return InputFileError(f"{archive}:{member}", message)


__all__ = ["DUMP_FILES", "DumpFile", "as_dump_file", "find_files", "hint"]
