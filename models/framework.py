"""The ECF (2019) and ITTECF (2024) taxonomies as versioned data, and loading a school's copy.

A framework file (YAML or JSON, see models/frameworks/) lists eight standards with their "learn
that" statements and "learn how to" headings and bullets. Loading turns it into one `Strand` row
per item with an id that depends only on the framework and the item's code, so loading a school's
official wording over the built-in summary renames strands in place and keeps every tag.

    standard        ecf-2019:S2     code "2"
    learn that      ecf-2019:2.3    code "2.3"
    how heading     ecf-2019:2-H1   code "2H1"
    how bullet      ecf-2019:2a     code "2a"   (lettered on across a standard's headings)
"""

from __future__ import annotations

import enum
import functools
import json
import re
import string
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Enum, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.db import Base, utcnow

BUILTIN = Path(__file__).with_name("frameworks")


class StrandKind(enum.StrEnum):
    standard = "standard"
    learn_that = "learn_that"
    learn_how_heading = "learn_how_heading"
    learn_how = "learn_how"


class Framework(Base):
    __tablename__ = "frameworks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(300), default="builtin")
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Strand(Base):
    __tablename__ = "strands"

    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    framework_id: Mapped[str] = mapped_column(
        ForeignKey("frameworks.id", ondelete="CASCADE"), index=True
    )
    standard: Mapped[int]
    kind: Mapped[StrandKind] = mapped_column(Enum(StrandKind, native_enum=False, length=24))
    code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[str | None] = mapped_column(String(96))
    position: Mapped[int] = mapped_column(default=0)


class FrameworkFileError(ValueError):
    """A framework file that does not have the expected shape; the message says where."""


@dataclass(frozen=True)
class StrandData:
    id: str
    standard: int
    kind: StrandKind
    code: str
    title: str
    parent_id: str | None
    position: int


@dataclass(frozen=True)
class FrameworkData:
    id: str
    name: str
    version: str
    strands: tuple[StrandData, ...]


def bullet_letter(index: int) -> str:
    """a..z, then aa, ab, ... (a standard with more than 26 bullets still gets unique codes)."""
    letters = string.ascii_lowercase
    if index < 26:
        return letters[index]
    return letters[index // 26 - 1] + letters[index % 26]


def _text(value: Any, where: str) -> str:
    if isinstance(value, dict):
        value = value.get("title")
    if not isinstance(value, str) or not value.strip():
        raise FrameworkFileError(f"{where}: expected a non-empty title")
    return value.strip()


def parse_framework(data: Any) -> FrameworkData:
    """Validate a framework document (already parsed from YAML or JSON) and number its strands."""
    if not isinstance(data, dict):
        raise FrameworkFileError("expected a mapping with id, name, version and standards")
    fw_id = str(data.get("id", "")).strip()
    if not fw_id or any(c in fw_id for c in ":/ "):
        raise FrameworkFileError("id: expected a short name without ':', '/' or spaces")
    standards = data.get("standards")
    if not isinstance(standards, list) or not standards:
        raise FrameworkFileError("standards: expected a list")
    strands: list[StrandData] = []
    position = 0

    def add(sid: str, n: int, kind: StrandKind, code: str, title: str, parent: str | None) -> None:
        nonlocal position
        position += 1
        strands.append(StrandData(sid, n, kind, code, title, parent, position))

    for i, standard in enumerate(standards):
        where = f"standards[{i}]"
        if not isinstance(standard, dict) or not isinstance(standard.get("number"), int):
            raise FrameworkFileError(f"{where}: expected a mapping with a number")
        n = standard["number"]
        std_id = f"{fw_id}:S{n}"
        add(std_id, n, StrandKind.standard, str(n), _text(standard.get("title"), where), None)
        for k, statement in enumerate(standard.get("learn_that") or [], start=1):
            title = _text(statement, f"{where}.learn_that[{k - 1}]")
            add(f"{fw_id}:{n}.{k}", n, StrandKind.learn_that, f"{n}.{k}", title, std_id)
        letter = 0
        for h, heading in enumerate(standard.get("learn_how") or [], start=1):
            hw = f"{where}.learn_how[{h - 1}]"
            if not isinstance(heading, dict):
                raise FrameworkFileError(f"{hw}: expected a mapping with heading and bullets")
            head_id = f"{fw_id}:{n}-H{h}"
            add(head_id, n, StrandKind.learn_how_heading, f"{n}H{h}",
                _text(heading.get("heading"), hw), std_id)  # fmt: skip
            for b, bullet in enumerate(heading.get("bullets") or []):
                code = f"{n}{bullet_letter(letter)}"
                if isinstance(bullet, dict) and bullet.get("code"):
                    code = str(bullet["code"])
                letter += 1
                title = _text(bullet, f"{hw}.bullets[{b}]")
                add(f"{fw_id}:{code}", n, StrandKind.learn_how, code, title, head_id)
    ids = [s.id for s in strands]
    if len(set(ids)) != len(ids):
        raise FrameworkFileError("two strands share a code; codes must be unique per framework")
    return FrameworkData(
        id=fw_id,
        name=_text(data.get("name"), "name"),
        version=str(data.get("version", "")).strip() or "1",
        strands=tuple(strands),
    )


def read_framework_file(path: Path) -> FrameworkData:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise FrameworkFileError(f"{path.name}: not valid YAML or JSON ({exc})") from None
    return parse_framework(data)


def load_framework(session: Session, framework: FrameworkData, source: str) -> int:
    """Insert or update a framework and its strands by id; returns how many strands it has.

    Strands the new file no longer lists are kept (tags may point at them).
    """
    row = session.get(Framework, framework.id)
    if row is None:
        row = Framework(id=framework.id, name=framework.name, version=framework.version)
        session.add(row)
    row.name, row.version, row.source = framework.name, framework.version, source[:300]
    row.loaded_at = utcnow()
    session.flush()
    existing = {
        s.id: s for s in session.scalars(select(Strand).where(Strand.framework_id == framework.id))
    }
    for data in framework.strands:
        strand = existing.get(data.id)
        if strand is None:
            strand = Strand(id=data.id, framework_id=framework.id)
            session.add(strand)
        strand.standard, strand.kind, strand.code = data.standard, data.kind, data.code
        strand.title, strand.parent_id, strand.position = data.title, data.parent_id, data.position
    return len(framework.strands)


def builtin_frameworks() -> list[FrameworkData]:
    return [read_framework_file(path) for path in sorted(BUILTIN.glob("*.yaml"))]


def ensure_builtin(session: Session) -> None:
    """Load the built-in frameworks that are missing; a school's loaded copy is never replaced."""
    present = set(session.scalars(select(Framework.id)))
    for framework in builtin_frameworks():
        if framework.id not in present:
            load_framework(session, framework, "builtin")


TEACHER_TERMS = Path(__file__).with_name("teacher-terms.yaml")


_stemmers = threading.local()


def _stem_uncached(word: str) -> str:
    """A snowball stemmer keeps its work in the instance, so each thread needs its own: two
    requests stemming at once on one stemmer raised IndexError (a 500) under the browser tests."""
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        import snowballstemmer

        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


@functools.cache
def _stem() -> Callable[[str], str]:
    return functools.lru_cache(maxsize=4096)(_stem_uncached)


def stems(text: str) -> tuple[str, ...]:
    """Lower-case word stems of `text`: "Planning questions" and "questioning" share `question`."""
    return tuple(_stem()(word) for word in re.findall(r"[a-z0-9]+", text.lower()))


@functools.cache
def teacher_terms() -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Each curated entry as a group of stemmed phrases (the term and the words it maps to)."""
    data = yaml.safe_load(TEACHER_TERMS.read_text(encoding="utf-8"))
    return tuple(tuple(stems(phrase) for phrase in [term, *words]) for term, words in data.items())


def _contains(haystack: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return n > 0 and any(haystack[i : i + n] == phrase for i in range(len(haystack) - n + 1))


def _alternatives(unit: tuple[str, ...]) -> list[tuple[str, ...]]:
    """A query unit (a word, or a curated term written in the query) and every phrase a curated
    entry groups it with."""
    found = [unit]
    for group in teacher_terms():
        if any(phrase == unit or (len(unit) == 1 and _contains(phrase, unit)) for phrase in group):
            found.extend(group)
    return found


def _query_units(query: str) -> list[tuple[str, ...]]:
    """The stems of `query`, with any curated term it contains ("wait time") kept as one unit."""
    words = list(stems(" ".join(query.split()[:8])))
    terms = sorted({g[0] for g in teacher_terms() if len(g[0]) > 1}, key=len, reverse=True)
    units: list[tuple[str, ...]] = []
    i = 0
    while i < len(words):
        term = next((t for t in terms if tuple(words[i : i + len(t)]) == t), None)
        units.append(term or (words[i],))
        i += len(term) if term else 1
    return units


def rank_strands(query: str, documents: Sequence[tuple[str, str, str]]) -> list[int]:
    """Indices of the documents matching every unit of `query`, best first.

    A document is (code, own text, context text): a bullet's context is its heading and standard.
    A unit matches the code exactly, or it (or a phrase a curated entry groups with it) appears
    in the text by stems. The very words typed count most, then a synonym in the strand's own
    words (a longer phrase a little more), then a match only in its context.
    """
    codes = {word.lower() for word in query.split()}
    units = _query_units(query)
    if not units:
        return list(range(len(documents)))
    scored: list[tuple[float, int]] = []
    for index, (code, own, context) in enumerate(documents):
        if code.lower() in codes:
            scored.append((-100.0, index))
            continue
        own_stems, context_stems = stems(own), stems(context)
        score = 0.0
        for unit in units:
            alternatives = _alternatives(unit)
            if _contains(own_stems, unit):  # the very words typed count most
                score += 3.0 * len(unit)
            elif synonyms := [a for a in alternatives if _contains(own_stems, a)]:
                score += 1.0 + 0.25 * (max(map(len, synonyms)) - 1)
            elif any(_contains(context_stems, a) for a in alternatives):
                score += 0.5
            else:
                break
        else:
            scored.append((-score, index))
    return [index for _, index in sorted(scored)]


def search_strands(
    session: Session, framework_id: str, q: str | None = None, kind: StrandKind | None = None
) -> list[Strand]:
    """Strands of one framework matching `q` by the words teachers use, best first (document
    order without `q`); see `rank_strands`."""
    every = list(
        session.scalars(
            select(Strand).where(Strand.framework_id == framework_id).order_by(Strand.position)
        )
    )
    by_id = {s.id: s for s in every}
    strands = [s for s in every if kind is None or s.kind == kind]
    if not (q or "").strip():
        return strands

    def context(strand: Strand) -> str:
        parts, parent = [], by_id.get(strand.parent_id or "")
        while parent is not None:
            parts.append(parent.title)
            parent = by_id.get(parent.parent_id or "")
        return " ".join(parts)

    documents = [(s.code, s.title, context(s)) for s in strands]
    return [strands[i] for i in rank_strands(q or "", documents)]
