"""Where an extract's files come from: a directory, or a .zip of one (at its root or in one folder).

Files are read as byte streams, line by line, so a national extract is never held in memory.
"""

from __future__ import annotations

import codecs
import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from complexcases.people.importer.problems import NOT_APPLICABLE, ProblemList

# In the order they are read: every file refers only to files before it.
EXTRACT_FILES = (
    "manifest.json",
    "pdus.csv",
    "teams.csv",
    "staff.csv",
    "people.csv",
    "registrations.csv",
    "oasys_assessments.csv",
    "sentences.csv",
    "limited_access.csv",
)
_CHUNK = 1 << 20


class ExtractSource:
    """The nine files of an extract. Open with `open_source`; use as a context manager."""

    def __init__(self, path: Path, members: dict[str, str], archive: zipfile.ZipFile | None):
        self.path = path
        self.name = path.name
        self._members = members  # extract file name -> path in the directory or the zip
        self._archive = archive

    def __enter__(self) -> ExtractSource:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._archive is not None:
            self._archive.close()

    def has(self, filename: str) -> bool:
        return filename in self._members

    @property
    def complete(self) -> bool:
        return all(name in self._members for name in EXTRACT_FILES)

    def open(self, filename: str) -> IO[bytes]:
        member = self._members[filename]
        if self._archive is None:
            return open(member, "rb")  # noqa: SIM115 - the caller closes it
        return self._archive.open(member)

    def is_utf8(self, filename: str) -> bool:
        """Whether the whole file is valid UTF-8: one quick pass in C, so that the common case can
        be read by the fast text layer and only a bad file is read line by line."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        with self.open(filename) as stream:
            try:
                while chunk := stream.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                return False
        return True

    def checksum(self) -> str:
        """sha256 of the files' bytes, concatenated in sorted file name order.

        Safe to call from another thread: it opens its own handles.
        """
        digest = hashlib.sha256()
        archive = zipfile.ZipFile(self.path) if self._archive is not None else None
        try:
            for filename in sorted(EXTRACT_FILES):
                member = self._members[filename]
                with archive.open(member) if archive is not None else open(member, "rb") as stream:
                    while chunk := stream.read(_CHUNK):
                        digest.update(chunk)
        finally:
            if archive is not None:
                archive.close()
        return digest.hexdigest()


def open_source(path: Path, problems: ProblemList, warnings: list[str]) -> ExtractSource | None:
    """Find the extract's files at PATH; a missing file is a problem. None if PATH is unusable."""
    source: ExtractSource | None
    if path.is_dir():
        source = _directory(path, warnings)
    elif path.is_file():
        try:
            source = _zip(path, problems, warnings)
        except (zipfile.BadZipFile, OSError) as error:
            problems.add(
                path.name, 1, NOT_APPLICABLE, NOT_APPLICABLE, f"not a readable .zip file ({error})"
            )
            return None
        if source is None:
            return None
    else:
        problems.add(path.name, 1, NOT_APPLICABLE, NOT_APPLICABLE, "no such directory or .zip file")
        return None
    for filename in EXTRACT_FILES:
        if not source.has(filename):
            problems.add(filename, 1, NOT_APPLICABLE, NOT_APPLICABLE, "required file is missing")
    return source


def _ignored(name: str) -> bool:
    return name.startswith(".") or name.startswith("__MACOSX")


def _directory(path: Path, warnings: list[str]) -> ExtractSource:
    members = {}
    for entry in sorted(path.iterdir()):
        if entry.name in EXTRACT_FILES and entry.is_file():
            members[entry.name] = str(entry)
        elif not _ignored(entry.name):
            warnings.append(f"{entry.name}: not part of schema 1, ignored")
    return ExtractSource(path, members, None)


def _zip(path: Path, problems: ProblemList, warnings: list[str]) -> ExtractSource | None:
    archive = zipfile.ZipFile(path)
    names = [
        info.filename
        for info in archive.infolist()
        if not info.is_dir() and not any(_ignored(part) for part in info.filename.split("/"))
    ]
    prefix = ""
    if not any("/" not in name for name in names):
        folders = {name.split("/", 1)[0] for name in names}
        if len(folders) == 1:
            prefix = f"{folders.pop()}/"
        elif folders:
            archive.close()
            problems.add(
                path.name,
                1,
                NOT_APPLICABLE,
                NOT_APPLICABLE,
                "the files must be at the root of the .zip or inside one top-level folder",
            )
            return None
    members = {}
    for name in names:
        inner = name[len(prefix) :] if name.startswith(prefix) else name
        if inner in EXTRACT_FILES:
            members[inner] = name
        else:
            warnings.append(f"{name}: not part of schema 1, ignored")
    return ExtractSource(path, members, archive)


def decoded_lines(stream: IO[bytes], bad_lines: list[int]) -> Iterator[str]:
    """The stream's physical lines as text. Lines with bytes that are not UTF-8 are noted in
    `bad_lines` and decoded with surrogate escapes, so the bad cell can be found and reported."""
    for number, raw in enumerate(stream, 1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            bad_lines.append(number)
            yield raw.decode("utf-8", "surrogateescape")
