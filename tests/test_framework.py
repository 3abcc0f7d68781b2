"""The versioned framework definition: structure, name matching, validation errors, frames."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pydantic
import pytest
import yaml

from pipelines.framework import (
    DEFAULT_PATH,
    Framework,
    FrameworkError,
    load_framework,
    name_key,
    oews_sector_code,
    slugify,
)

# docs/framework.md §6: sub-clusters per cluster (web spelling).
SUB_CLUSTER_COUNTS = {
    "Advanced Manufacturing": 5,
    "Agriculture": 6,
    "Arts, Entertainment & Design": 6,
    "Construction": 4,
    "Digital Technology": 6,
    "Education": 4,
    "Energy & Natural Resources": 6,
    "Financial Services": 5,
    "Healthcare & Human Services": 6,
    "Hospitality, Events & Tourism": 4,
    "Management & Entrepreneurship": 5,
    "Marketing & Sales": 4,
    "Public Service & Safety": 5,
    "Supply Chain & Transportation": 6,
}
CROSS_CUTTING = {"Digital Technology", "Management & Entrepreneurship", "Marketing & Sales"}


@pytest.fixture(scope="module")
def fw() -> Framework:
    return load_framework()


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def write_copy(tmp_path: Path, raw: dict[str, Any]) -> Callable[..., Path]:
    """Write an edited copy of the framework file; `edit` mutates the parsed data in place."""

    def write(edit: Callable[[dict[str, Any]], None]) -> Path:
        data = copy.deepcopy(raw)
        edit(data)
        path = tmp_path / "framework_broken.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
        return path

    return write


def _cluster(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in data["clusters"] if c["name"] == name)


# --- structure -------------------------------------------------------------------------------


def test_default_path_is_beside_the_module() -> None:
    assert DEFAULT_PATH.name == "framework_2024.yaml"
    assert DEFAULT_PATH.parent.name == "framework" and DEFAULT_PATH.is_file()


def test_counts(fw: Framework) -> None:
    assert len(fw.clusters) == 14
    assert sum(len(c.sub_clusters) for c in fw.clusters) == 72
    assert len(fw.groupings) == 6
    assert {c.name for c in fw.clusters if c.is_cross_cutting} == CROSS_CUTTING
    assert fw.counts == {
        "groupings": 6,
        "clusters": 14,
        "sub_clusters": 72,
        "cross_cutting_clusters": 3,
    }


@pytest.mark.parametrize(("name", "count"), SUB_CLUSTER_COUNTS.items())
def test_sub_cluster_counts(fw: Framework, name: str, count: int) -> None:
    assert len(fw.cluster(name).sub_clusters) == count


def test_release_and_version(fw: Framework) -> None:
    assert fw.version == "2024.2"
    assert str(fw.released) == "2024-10-22"
    assert "2025-06-26" in {str(d) for d in fw.changes}
    assert all(s.startswith("https://") for s in fw.sources)


def test_groupings(fw: Framework) -> None:
    codes = {g.name: g.code for g in fw.groupings}
    assert codes == {
        "Building & Moving": "01",
        "Creating & Experiencing": "02",
        "Investing in the Future": "03",
        "Caring for Communities": "04",
        "Cultivating Resources": "05",
        "Connecting & Supporting Success": "06",
    }
    provisional = {g.name for g in fw.groupings if g.confidence == "provisional"}
    assert provisional == {"Creating & Experiencing", "Connecting & Supporting Success"}
    (cross_set,) = [g for g in fw.groupings if g.is_cross_cutting_set]
    assert cross_set.code == "06"
    assert {c.name for c in fw.clusters if c.grouping == cross_set.name} == CROSS_CUTTING


def test_spellings(fw: Framework) -> None:
    arts = fw.cluster("arts-entertainment-design")
    assert arts.name == "Arts, Entertainment & Design"
    assert arts.spreadsheet_name == "Arts, Entertainment, & Design"
    hosp = fw.cluster("hospitality-events-tourism")
    assert hosp.spreadsheet_name == "Hospitality, Events, & Tourism"
    for c in fw.clusters:  # the two spellings differ only by the serial comma
        assert name_key(c.name) == name_key(c.spreadsheet_name)
        assert c.slug == slugify(c.name)
    education = fw.cluster("Education")
    assert "Teaching, Training, & Facilitation" in [s.name for s in education.sub_clusters]


def test_onet_codes(fw: Framework) -> None:
    confirmed = {c.onet_code for c in fw.clusters if c.is_onet_code_confirmed}
    assert confirmed == {"010100", "030100", "050100"}
    for c in fw.clusters:
        assert c.onet_code.startswith(fw.grouping(c.grouping).code)


def test_sectors(fw: Framework) -> None:
    education = fw.cluster("Education")
    assert education.naics_sectors == ("61", "92")  # the 2025-06-26 correction
    assert education.oews_sector_codes == ("61--62", "99-100")
    assert fw.cluster("Advanced Manufacturing").oews_sector_codes == ("31--34",)
    assert fw.cluster("Supply Chain & Transportation").naics_sectors == ("42", "48-49")
    government = {c.name for c in fw.clusters if "99-100" in c.oews_sector_codes}
    assert government == {"Education", "Public Service & Safety"}
    all_sectors = {s for c in fw.clusters for s in c.naics_sectors}
    assert len(all_sectors) == 20  # framework.md: every NAICS sector appears at least once


@pytest.mark.parametrize(
    ("naics", "oews"),
    [("11", "11--12"), ("31-33", "31--34"), ("44-45", "44--46"), ("48-49", "48--50"),
     ("92", "99-100")],
)  # fmt: skip
def test_oews_sector_code(naics: str, oews: str) -> None:
    assert oews_sector_code(naics) == oews


def test_oews_sector_code_rejects_non_sectors() -> None:
    with pytest.raises(ValueError, match="not a NAICS sector"):
        oews_sector_code("31")


def test_provisional_sub_cluster(fw: Framework) -> None:
    provisional = [(c.name, s) for c in fw.clusters for s in c.sub_clusters if s.is_provisional]
    assert len(provisional) == 1
    cluster_name, uvt = provisional[0]
    assert (cluster_name, uvt.name) == ("Digital Technology", "Unmanned Vehicle Technology")
    assert uvt.note and "no crosswalk rows" in uvt.note


def test_models_are_frozen(fw: Framework) -> None:
    with pytest.raises(pydantic.ValidationError):
        fw.clusters[0].name = "Changed"  # type: ignore[misc]


# --- name matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variants",
    [
        ("Arts, Entertainment, & Design", "Arts, Entertainment & Design",
         "arts entertainment and design", "ARTS,  ENTERTAINMENT AND DESIGN "),
        ("Teaching, Training, & Facilitation", "Teaching, Training & Facilitation"),
        ("Culinary and Food Services", "Culinary & Food Services"),
        ("Web and Cloud", "Web & Cloud", "web&cloud"),
        ("Self-Driving Cars", "Self\u2013Driving Cars", "self driving cars"),
        ("Children's Services", "Children\u2019s Services", "Childrens Services"),
    ],
)  # fmt: skip
def test_name_key_equivalences(variants: tuple[str, ...]) -> None:
    assert len({name_key(v) for v in variants}) == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Education", "Education Administration & Leadership"),
        ("Marketing & Sales", "Marketing & Advertising"),
        ("Engineering", "Architecture & Civil Engineering"),
        ("Web & Cloud", "Web Cloud Services"),
    ],
)
def test_name_key_non_equivalences(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_name_key_form() -> None:
    assert name_key("Arts, Entertainment, & Design") == "arts entertainment and design"
    assert slugify("Hospitality, Events, & Tourism") == "hospitality-events-tourism"


@pytest.mark.parametrize(
    ("raw", "slug"),
    [
        ("Arts, Entertainment, & Design", "arts-entertainment-design"),
        ("Arts, Entertainment & Design", "arts-entertainment-design"),
        ("hospitality, events and tourism", "hospitality-events-tourism"),
        ("HOSPITALITY, EVENTS, & TOURISM", "hospitality-events-tourism"),
        ("hospitality-events-tourism", "hospitality-events-tourism"),
        ("healthcare and human services", "healthcare-human-services"),
        ("  digital technology ", "digital-technology"),
    ],
)
def test_match_cluster(fw: Framework, raw: str, slug: str) -> None:
    match = fw.match_cluster(raw)
    assert match is not None and match.slug == slug


@pytest.mark.parametrize("raw", ["Education Administration & Leadership", "Health Science", ""])
def test_match_cluster_none(fw: Framework, raw: str) -> None:
    assert fw.match_cluster(raw) is None


def test_cluster_lookup_is_exact(fw: Framework) -> None:
    assert fw.cluster("Hospitality, Events, & Tourism") is fw.cluster("hospitality-events-tourism")
    with pytest.raises(KeyError, match="match_cluster"):
        fw.cluster("hospitality events and tourism")


def test_match_sub_cluster(fw: Framework) -> None:
    found = fw.match_sub_cluster("web and cloud")
    assert found is not None
    assert (found[0].name, found[1].name) == ("Digital Technology", "Web & Cloud")
    found = fw.match_sub_cluster("teaching, training & facilitation")
    assert found is not None and found[1].name == "Teaching, Training, & Facilitation"
    found = fw.match_sub_cluster(
        "culinary and food services", fw.cluster("Hospitality, Events & Tourism")
    )
    assert found is not None and found[1].name == "Culinary & Food Services"
    found = fw.match_sub_cluster("Uncrewed Vehicle Technology")
    assert found is not None and found[1].name == "Unmanned Vehicle Technology"
    assert fw.match_sub_cluster("web and cloud", fw.cluster("Education")) is None
    assert fw.match_sub_cluster("Education") is None


def test_match_sub_cluster_ambiguous(write_copy: Callable[..., Path]) -> None:
    def rename(data: dict[str, Any]) -> None:
        _cluster(data, "Construction")["sub_clusters"][-1]["name"] = "Engineering"

    fw = load_framework(write_copy(rename))
    assert fw.match_sub_cluster("engineering") is None  # in two clusters
    for cluster_name in ("Construction", "Advanced Manufacturing"):
        found = fw.match_sub_cluster("engineering", fw.cluster(cluster_name))
        assert found is not None and found[0].name == cluster_name


# --- validation --------------------------------------------------------------------------------


def _duplicate_cluster(data: dict[str, Any]) -> None:
    data["clusters"].append(copy.deepcopy(_cluster(data, "Agriculture")))


def _fourth_cross_cutting(data: dict[str, Any]) -> None:
    _cluster(data, "Construction")["is_cross_cutting"] = True


def _fourth_cross_cutting_in_set(data: dict[str, Any]) -> None:
    construction = _cluster(data, "Construction")
    construction.update(is_cross_cutting=True, grouping="Connecting & Supporting Success")
    construction["onet_code"] = "060400"


def _unknown_grouping(data: dict[str, Any]) -> None:
    _cluster(data, "Agriculture")["grouping"] = "Growing Things"


def _extra_cluster_field(data: dict[str, Any]) -> None:
    _cluster(data, "Education")["colour"] = "red"


def _extra_sub_cluster_field(data: dict[str, Any]) -> None:
    _cluster(data, "Education")["sub_clusters"][0]["code"] = "040101"


def _duplicate_sub_cluster(data: dict[str, Any]) -> None:
    _cluster(data, "Digital Technology")["sub_clusters"][0]["name"] = "Web and Cloud"


def _wrong_oews_code(data: dict[str, Any]) -> None:
    _cluster(data, "Education")["oews_sector_codes"] = ["61--62", "92--93"]


def _bad_naics_sector(data: dict[str, Any]) -> None:
    _cluster(data, "Advanced Manufacturing")["naics_sectors"] = ["31"]


def _bad_slug(data: dict[str, Any]) -> None:
    _cluster(data, "Construction")["slug"] = "Construction!"


def _provisional_without_note(data: dict[str, Any]) -> None:
    del _cluster(data, "Digital Technology")["sub_clusters"][-1]["note"]


def _missing_sub_cluster(data: dict[str, Any]) -> None:
    _cluster(data, "Construction")["sub_clusters"].pop()


def _onet_prefix(data: dict[str, Any]) -> None:
    _cluster(data, "Agriculture")["onet_code"] = "010900"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_duplicate_cluster, ["clusters[14] 'Agriculture'", "already used by clusters[1]"]),
        (_fourth_cross_cutting, ["clusters[3] 'Construction'", "is_cross_cutting"]),
        (_fourth_cross_cutting_in_set, ["counts", "contains {'cross_cutting_clusters': 4}"]),
        (_unknown_grouping, ["clusters[1] 'Agriculture'", "unknown grouping 'Growing Things'"]),
        (_extra_cluster_field, ["clusters[5] 'Education'.colour", "Extra inputs"]),
        (_extra_sub_cluster_field, ["sub_clusters[0] 'Early Childhood Development'.code"]),
        (_duplicate_sub_cluster, ["'Digital Technology'", "sub_clusters[4] 'Web & Cloud'"]),
        (_wrong_oews_code, ["clusters[5] 'Education'", "must be ['61--62', '99-100']"]),
        (_bad_naics_sector, ["'Advanced Manufacturing'", "'31' is not a NAICS sector"]),
        (_bad_slug, ["clusters[3] 'Construction'.slug"]),
        (_provisional_without_note, ["'Unmanned Vehicle Technology'", "needs a `note`"]),
        (
            _missing_sub_cluster,
            ["counts", "declares {'sub_clusters': 72} but contains {'sub_clusters': 71}"],
        ),
        (_onet_prefix, ["clusters[1] 'Agriculture'", "must start with 05"]),
    ],
)
def test_broken_copies(
    write_copy: Callable[..., Path], edit: Callable[[dict[str, Any]], None], expected: list[str]
) -> None:
    path = write_copy(edit)
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    path = tmp_path / "dup.yaml"
    path.write_text(text.replace("version: ", "released: 2024-10-21\nversion: ", 1), "utf-8")
    with pytest.raises(FrameworkError, match="duplicate key"):
        load_framework(path)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError, match="cannot read"):
        load_framework(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n", "utf-8")
    with pytest.raises(FrameworkError, match="mapping"):
        load_framework(tmp_path / "list.yaml")


def test_framework_error_is_value_error() -> None:
    assert issubclass(FrameworkError, ValueError)


# --- frames ----------------------------------------------------------------------------------


def test_clusters_frame(fw: Framework) -> None:
    frame = fw.clusters_frame()
    assert frame.shape == (14, 13)
    assert frame.columns == [
        "cluster_code", "cluster_name", "spreadsheet_name", "grouping_name", "grouping_code",
        "is_cross_cutting", "onet_code", "is_onet_code_confirmed", "naics_sectors",
        "oews_sector_codes", "definition", "sub_cluster_count", "framework_version",
    ]  # fmt: skip
    assert frame["cluster_code"].is_unique().all()
    assert frame["sub_cluster_count"].dtype == pl.Int64 and frame["sub_cluster_count"].sum() == 72
    assert frame["is_cross_cutting"].dtype == pl.Boolean and frame["is_cross_cutting"].sum() == 3
    row = frame.filter(pl.col("cluster_code") == "education").row(0, named=True)
    assert row["naics_sectors"] == "61, 92" and row["oews_sector_codes"] == "61--62, 99-100"
    assert row["grouping_name"] == "Caring for Communities" and row["grouping_code"] == "04"
    assert set(frame["framework_version"]) == {"2024.2"}
    assert frame["definition"].str.len_chars().min() > 40


def test_sub_clusters_frame(fw: Framework) -> None:
    frame = fw.sub_clusters_frame()
    assert frame.shape == (72, 7)
    assert frame.columns == [
        "cluster_code", "sub_cluster_code", "sub_cluster_name", "is_provisional", "note",
        "data_note", "framework_version",
    ]  # fmt: skip
    noted = frame.filter(pl.col("data_note").is_not_null())["sub_cluster_code"].to_list()
    assert sorted(noted) == [
        "digital-technology/unmanned-vehicle-technology",
        "public-service-safety/military-national-security",
    ]
    assert frame["sub_cluster_code"].is_unique().all()
    assert frame["note"].dtype == pl.String and frame["is_provisional"].sum() == 1
    codes = set(frame["sub_cluster_code"])
    assert "digital-technology/web-cloud" in codes
    assert "education/teaching-training-facilitation" in codes
    assert "digital-technology/unmanned-vehicle-technology" in codes
    counts = dict(frame.group_by("cluster_code").len().iter_rows())
    assert counts == {fw.cluster(n).slug: k for n, k in SUB_CLUSTER_COUNTS.items()}


def test_cluster_sectors_frame(fw: Framework) -> None:
    frame = fw.cluster_sectors_frame()
    assert frame.shape == (22, 3)
    assert frame.columns == ["cluster_code", "naics_sector", "oews_sector_code"]
    assert all(dtype == pl.String for dtype in frame.dtypes)
    education = frame.filter(pl.col("cluster_code") == "education").rows()
    assert education == [("education", "61", "61--62"), ("education", "92", "99-100")]
    assert set(frame.filter(pl.col("naics_sector") == "54")["cluster_code"]) == {
        "digital-technology",
        "marketing-sales",
    }
