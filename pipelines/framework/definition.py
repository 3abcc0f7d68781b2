"""The National Career Clusters® Framework as versioned data (`framework_2024.yaml` beside this).

A new Advance CTE revision is a data change. `load_framework` validates the file strictly; every
problem is a `FrameworkError` naming the file and the entry.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from pydantic_core import ErrorDetails

from pipelines.errors import ExplainedError
from pipelines.policy.rules_file import SAFE_LOADER

DEFAULT_PATH = Path(__file__).resolve().with_name("framework_2024.yaml")

# The 20 NAICS 2017/2022 sectors, written as Census writes them.
_TWO_DIGIT = (11, 21, 22, 23, 42, 51, 52, 53, 54, 55, 56, 61, 62, 71, 72, 81, 92)
NAICS_SECTORS = frozenset({"31-33", "44-45", "48-49", *map(str, _TWO_DIGIT)})
_OEWS_SPECIAL = {"92": "99-100"}  # OEWS has no sector 92; government is Sector 99 (`99-100`).
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d"), "-")
_QUOTES = dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\u0060\u00b4"), "'")


class FrameworkError(ExplainedError, ValueError):
    """The framework file is unreadable or invalid; the message names the file and the entry."""


def name_key(name: str) -> str:
    """Normalise a cluster or sub-cluster name for matching names from other sources.

    Case-insensitive; accents, Unicode dashes and quotes normalised; apostrophes dropped;
    "&" equals "and"; every other punctuation mark (so also a serial comma) and whitespace run
    collapses to one space. "Arts, Entertainment, & Design" -> "arts entertainment and design".
    """
    text = unicodedata.normalize("NFKD", name.translate(_DASHES).translate(_QUOTES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("'", "").replace("&", " and ")
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def slugify(name: str) -> str:
    """careertech.org-style slug: the name key's words without "and", joined by hyphens."""
    return "-".join(word for word in name_key(name).split() if word != "and")


def oews_sector_code(naics_sector: str) -> str:
    """The OEWS industry code of a NAICS sector: `SS--EE` (EE exclusive); NAICS 92 -> `99-100`."""
    if naics_sector not in NAICS_SECTORS:
        raise ValueError(f"{naics_sector!r} is not a NAICS sector: {sorted(NAICS_SECTORS)}")
    return _OEWS_SPECIAL.get(naics_sector, f"{naics_sector[:2]}--{int(naics_sector[-2:]) + 1}")


def _claim(owners: dict[tuple[str, str], str], what: str, value: str, owner: str) -> None:
    """Record that `owner` uses `value` as its `what`; ValueError if another entry already does."""
    if owners.setdefault((what, value), owner) != owner:
        raise ValueError(f"{owner}: {what} {value!r} is already used by {owners[what, value]}")


CountName = Literal["groupings", "clusters", "sub_clusters", "cross_cutting_clusters"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grouping(_Strict):
    """A Cluster Grouping; `code` is the first two digits of its clusters' O*NET codes."""

    name: str = Field(min_length=1)
    code: str = Field(pattern=r"^\d{2}$")
    confidence: Literal["confirmed", "provisional"]
    is_cross_cutting_set: bool
    note: str | None = None


class SubCluster(_Strict):
    """A Sub-Cluster; `name` is Advance CTE's spreadsheet spelling, `aliases` other spellings."""

    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    is_provisional: bool = False
    note: str | None = None
    # why the OEWS data may leave it (nearly) empty: said in the reports when it has no
    # qualifying occupation
    data_note: str | None = None

    @property
    def keys(self) -> list[str]:
        """Normalised keys this sub-cluster matches (name, aliases, slug), sorted."""
        return sorted({name_key(n) for n in (self.name, *self.aliases, slugify(self.name))})


class Cluster(_Strict):
    """A Career Cluster with its grouping, codes, sectors and sub-clusters."""

    name: str = Field(min_length=1)
    spreadsheet_name: str = Field(min_length=1)
    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    grouping: str
    is_cross_cutting: bool
    onet_code: str = Field(pattern=r"^\d{6}$")
    is_onet_code_confirmed: bool
    naics_sectors: tuple[str, ...] = Field(min_length=1)
    oews_sector_codes: tuple[str, ...] = Field(min_length=1)
    definition: str = Field(min_length=1)
    sub_clusters: tuple[SubCluster, ...] = Field(min_length=1)

    @property
    def keys(self) -> list[str]:
        """Normalised keys this cluster matches (web name, spreadsheet name, slug), sorted."""
        return sorted({name_key(n) for n in (self.name, self.spreadsheet_name, self.slug)})

    @model_validator(mode="after")
    def _check_sectors_and_sub_clusters(self) -> Cluster:
        if len(set(self.naics_sectors)) != len(self.naics_sectors):
            raise ValueError(f"naics_sectors {list(self.naics_sectors)} repeat a sector")
        if self.oews_sector_codes != (want := tuple(map(oews_sector_code, self.naics_sectors))):
            raise ValueError(f"oews_sector_codes must be {list(want)}, one per NAICS sector")
        owners: dict[tuple[str, str], str] = {}
        for i, sub in enumerate(self.sub_clusters):
            for key in sub.keys:
                _claim(owners, "name key", key, where := f"sub_clusters[{i}] {sub.name!r}")
            if sub.is_provisional and not sub.note:
                raise ValueError(f"{where}: a provisional sub-cluster needs a `note`")
        return self


class Framework(_Strict):
    """The whole framework file; use `load_framework` to read one."""

    framework: str = Field(min_length=1)
    version: str = Field(pattern=r"^\d{4}\.\d+$")
    released: date
    changes: dict[date, str] = Field(default_factory=dict)  # release and corrections, by date
    sources: tuple[Annotated[str, Field(pattern=r"^https?://\S+$")], ...] = Field(min_length=1)
    counts: dict[CountName, int]  # what the lists must add up to
    groupings: tuple[Grouping, ...]
    clusters: tuple[Cluster, ...]
    _groupings: dict[str, Grouping] = PrivateAttr(default_factory=dict)
    _clusters: dict[str, Cluster] = PrivateAttr(default_factory=dict)
    _subs: dict[str, list[tuple[Cluster, SubCluster]]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_invariants(self) -> Framework:
        owners: dict[tuple[str, str], str] = {}
        for i, g in enumerate(self.groupings):
            _claim(owners, "grouping key", name_key(g.name), where := f"groupings[{i}] {g.name!r}")
            _claim(owners, "grouping code", g.code, where)
        self._groupings = {name_key(g.name): g for g in self.groupings}
        if sum(g.is_cross_cutting_set for g in self.groupings) != 1:
            raise ValueError("groupings: exactly one must have is_cross_cutting_set: true")
        for i, c in enumerate(self.clusters):
            where = f"clusters[{i}] {c.name!r}"
            if (group := self._groupings.get(name_key(c.grouping))) is None:
                raise ValueError(f"{where}: unknown grouping {c.grouping!r}")
            if c.is_cross_cutting != group.is_cross_cutting_set:
                raise ValueError(
                    f"{where}: is_cross_cutting disagrees with grouping {group.name!r}"
                )
            if not c.onet_code.startswith(group.code):
                raise ValueError(f"{where}: O*NET code {c.onet_code} must start with {group.code}")
            _claim(owners, "O*NET code", c.onet_code, where)
            for key in c.keys:
                _claim(owners, "cluster key", key, where)
                self._clusters[key] = c
            for sub in c.sub_clusters:
                for key in sub.keys:
                    self._subs.setdefault(key, []).append((c, sub))
        found = {
            "groupings": len(self.groupings),
            "clusters": len(self.clusters),
            "sub_clusters": sum(len(c.sub_clusters) for c in self.clusters),
            "cross_cutting_clusters": sum(c.is_cross_cutting for c in self.clusters),
        }
        if wrong := {k: n for k, n in found.items() if self.counts.get(k) != n}:
            declared = {k: self.counts.get(k) for k in wrong}
            raise ValueError(f"counts: the file declares {declared} but contains {wrong}")
        return self

    def grouping(self, name: str) -> Grouping:
        """The grouping with this name (any spelling with the same `name_key`); KeyError if none."""
        if (found := self._groupings.get(name_key(name))) is None:
            raise KeyError(f"{name!r} is not a Cluster Grouping")
        return found

    def cluster(self, name_or_slug: str) -> Cluster:
        """The cluster whose exact name, spreadsheet name or slug this is; KeyError otherwise."""
        for c in self.clusters:
            if name_or_slug in (c.name, c.spreadsheet_name, c.slug):
                return c
        raise KeyError(f"{name_or_slug!r} is not a cluster name or slug (see match_cluster)")

    def match_cluster(self, raw: str) -> Cluster | None:
        """The cluster a name from another source means (matched on `name_key`), or None."""
        return self._clusters.get(name_key(raw))

    def match_sub_cluster(
        self, raw: str, cluster: Cluster | None = None
    ) -> tuple[Cluster, SubCluster] | None:
        """(cluster, sub-cluster) a sub-cluster name means, within `cluster` or across all.

        Across all clusters a name found in more than one cluster is ambiguous: None.
        """
        hits = self._subs.get(name_key(raw), [])
        if cluster is not None:
            hits = [hit for hit in hits if hit[0].slug == cluster.slug]
        return hits[0] if len(hits) == 1 else None

    def clusters_frame(self) -> pl.DataFrame:
        """One row per cluster, `cluster_code` = slug; sector lists comma-joined."""
        rows = [
            {
                "cluster_code": c.slug,
                "cluster_name": c.name,
                "spreadsheet_name": c.spreadsheet_name,
                "grouping_name": self.grouping(c.grouping).name,
                "grouping_code": self.grouping(c.grouping).code,
                "is_cross_cutting": c.is_cross_cutting,
                "onet_code": c.onet_code,
                "is_onet_code_confirmed": c.is_onet_code_confirmed,
                "naics_sectors": ", ".join(c.naics_sectors),
                "oews_sector_codes": ", ".join(c.oews_sector_codes),
                "definition": c.definition,
                "sub_cluster_count": len(c.sub_clusters),
                "framework_version": self.version,
            }
            for c in self.clusters
        ]
        return pl.DataFrame(rows, schema_overrides={"sub_cluster_count": pl.Int64})

    def sub_clusters_frame(self) -> pl.DataFrame:
        """One row per sub-cluster; `sub_cluster_code` = cluster slug + "/" + slugified name."""
        rows = [
            {
                "cluster_code": c.slug,
                "sub_cluster_code": f"{c.slug}/{slugify(s.name)}",
                "sub_cluster_name": s.name,
                "is_provisional": s.is_provisional,
                "note": s.note,
                "data_note": s.data_note,
                "framework_version": self.version,
            }
            for c in self.clusters
            for s in c.sub_clusters
        ]
        return pl.DataFrame(rows, schema_overrides={"note": pl.String, "data_note": pl.String})

    def cluster_sectors_frame(self) -> pl.DataFrame:
        """One row per (cluster, Advance CTE NAICS sector) with the derived OEWS sector code."""
        rows = [
            {"cluster_code": c.slug, "naics_sector": naics, "oews_sector_code": oews}
            for c in self.clusters
            for naics, oews in zip(c.naics_sectors, c.oews_sector_codes, strict=True)
        ]
        return pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String))


def _problem(data: Any, error: ErrorDetails) -> str:
    """One validation error with a readable path: `clusters[4] 'Digital Technology'.slug: …`."""
    text, node = "", data
    for part in error["loc"]:
        if isinstance(part, int) and isinstance(node, list):
            node = node[part] if part < len(node) else None
            name = node.get("name") if isinstance(node, dict) else None
            text += f"[{part}]" + (f" {name!r}" if isinstance(name, str) else "")
        else:
            node = node.get(part) if isinstance(node, dict) else None
            text += f"{'.' if text else ''}{part}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{text}: {message}" if text else message


class _UniqueKeyLoader(SAFE_LOADER):  # type: ignore[misc]
    """The shared safe loader (libyaml's parser where available), rejecting a mapping with the
    same key twice (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [str(self.construct_object(k)) for k, _ in node.value]
        if dupes := sorted({k for k in keys if keys.count(k) > 1}):
            raise yaml.MarkedYAMLError("in a mapping", node.start_mark, f"duplicate key {dupes}")
        return super().construct_mapping(node, deep=deep)


def load_framework(path: Path = DEFAULT_PATH) -> Framework:
    """Read and validate a framework file; raise `FrameworkError` naming the file and the entry."""
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise FrameworkError(f"{path}: cannot read the framework file: {exc}") from exc
    if not isinstance(data, dict):
        raise FrameworkError(f"{path}: expected a mapping at the top level")
    try:
        return Framework.model_validate(data)
    except ValidationError as exc:
        problems = "\n  ".join(_problem(data, error) for error in exc.errors())
        raise FrameworkError(f"{path}: invalid framework file:\n  {problems}") from None
