"""O*NET Job Zones reader, zip extraction and the Job Zone -> EP/OEWS code mapping.

Reference files are read in place from ../shared/data (never copied into the repo); broken or
release-variant files and zips are built in tmp_path.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl
import pytest

from pipelines.sources.files import SourceError
from pipelines.sources.job_zones import job_zones_by_soc
from pipelines.sources.onet import (
    DEFAULT_ONET_URL,
    JOB_ZONE_REFERENCE_FILE,
    JOB_ZONES_FILE,
    attribution,
    extract_from_zip,
    onet_release_from_zip_name,
    read_job_zone_reference,
    read_job_zones,
)
from pipelines.sources.soc_alignment import load_alignment

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ONET = DATA / "onet"
JOB_ZONES_TXT = ONET / "Job Zones.txt"
REFERENCE_TXT = ONET / "Job Zone Reference.txt"
EP_XLSX = DATA / "ep" / "occupation_2024-34.xlsx"

needs_onet = pytest.mark.skipif(
    not (JOB_ZONES_TXT.exists() and REFERENCE_TXT.exists()),
    reason=f"O*NET reference files not found under {ONET}",
)
needs_ep = pytest.mark.skipif(not EP_XLSX.exists(), reason=f"{EP_XLSX} not found")

HEADER_29 = "O*NET-SOC Code\tTitle\tJob Zone\tDate\tDomain Source"
HEADER_30 = "O*NET-SOC Code\tJob Zone\tDate\tDomain Source"
ROWS_30 = [
    "15-1252.00\t4\t08/2025\tAnalyst",
    "11-3013.00\t3\t08/2025\tAnalyst",
    "11-3013.01\t4\t08/2025\tAnalyst",
    "45-3031.00\t1\t08/2025\tAnalyst - Preliminary",
]
REFERENCE_HEADER = "Job Zone\tName\tExperience\tEducation\tJob Training\tExamples\tSVP Range"
AGGREGATES = ["21-1018", "25-2052", "25-9045", "51-2028", "53-1047"]
BROAD_AS_DETAILED = ["13-1020", "13-2020", "29-2010", "31-1120", "39-7010", "47-4090", "51-2090"]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def reference_lines() -> list[str]:
    words = ["One", "Two", "Three", "Four", "Five"]
    return [REFERENCE_HEADER] + [
        f"{i}\tJob Zone {w}: x\texp\tedu\ttraining\texamples\t(svp)" for i, w in enumerate(words, 1)
    ]


@pytest.fixture(scope="module")
def ep_codes() -> list[str]:
    """The 832 EP 2024-34 line items (Table 1.2), as the pipeline will request them."""
    table = pl.read_excel(EP_XLSX, sheet_name="Table 1.2", read_options={"header_row": 1})
    codes = table.filter(pl.col("Occupation type") == "Line item")[
        "2024 National Employment Matrix code"
    ].to_list()
    assert len(codes) == len(set(codes)) == 832
    return codes


# ---- reference files ------------------------------------------------------------------------
@needs_onet
def test_reads_reference_job_zones() -> None:
    jz = read_job_zones(JOB_ZONES_TXT)
    assert jz.height == 923
    assert jz.columns == ["onet_soc_code", "onet_title", "job_zone", "date", "domain_source"]
    assert jz.schema["job_zone"] == pl.Int8
    counts = dict(jz["job_zone"].value_counts().iter_rows())
    assert counts == {1: 31, 2: 295, 3: 219, 4: 224, 5: 154}
    assert jz["onet_soc_code"].is_unique().all()
    assert jz["onet_title"].null_count() == 0
    row = jz.filter(pl.col("onet_soc_code") == "15-1252.00").row(0, named=True)
    assert row["onet_title"] == "Software Developers"
    assert row["job_zone"] == 4
    assert jz["date"].str.contains(r"^\d{2}/\d{4}$").all()


@needs_onet
def test_reads_reference_job_zone_reference() -> None:
    ref = read_job_zone_reference(REFERENCE_TXT)
    assert ref.columns == [
        "job_zone",
        "name",
        "experience",
        "education",
        "job_training",
        "examples",
        "svp_range",
    ]
    assert ref.height == 5
    assert ref["job_zone"].to_list() == [1, 2, 3, 4, 5]
    assert ref["name"][0] == "Job Zone One: Little or No Preparation Needed"
    assert ref["name"].str.starts_with("Job Zone ").all()
    assert ref["svp_range"][4] == "(8.0 and above)"


# ---- mapping onto EP/OEWS codes ---------------------------------------------------------------
@needs_onet
@needs_ep
def test_job_zones_for_all_ep_codes(ep_codes: list[str]) -> None:
    jz = read_job_zones(JOB_ZONES_TXT)
    out = job_zones_by_soc(jz, ep_codes, load_alignment())
    assert out.columns == ["soc_code", "job_zone", "job_zone_rule", "onet_codes"]
    assert out.schema["job_zone"] == pl.Int8
    assert out["soc_code"].to_list() == ep_codes

    prefixes = set(jz["onet_soc_code"].str.slice(0, 7))
    exact = out.filter(pl.col("soc_code").is_in(prefixes))
    rolled = out.filter(pl.col("job_zone_rule").str.starts_with("rolled up"))
    null = out.filter(pl.col("job_zone").is_null())
    assert (exact.height, rolled.height, null.height) == (773, 12, 47)
    assert exact["job_zone"].null_count() == 0
    assert sorted(rolled["soc_code"]) == sorted(AGGREGATES + BROAD_AS_DETAILED)
    assert null["onet_codes"].null_count() == 47
    assert null["job_zone_rule"].str.starts_with("no Job Zone").all()
    assert {"11-9039", "21-1019", "43-9199", "53-7199"} <= set(null["soc_code"])
    # the unmatched codes are "All Other" (xx-xxx9) residuals, bar none
    assert null["soc_code"].str.ends_with("9").all()

    zone = dict(zip(out["soc_code"], out["job_zone"], strict=True))
    rule = dict(zip(out["soc_code"], out["job_zone_rule"], strict=True))
    used = dict(zip(out["soc_code"], out["onet_codes"], strict=True))
    assert (zone["15-1252"], rule["15-1252"], used["15-1252"]) == (
        4,
        "O*NET 15-1252.00",
        "15-1252.00",
    )
    # .00 in zone 3, its specialisation .01 in zone 4: the SOC occupation's own zone wins
    assert zone["11-3013"] == 3
    assert rule["11-3013"].startswith("O*NET 11-3013.00") and ".01 zone 4" in rule["11-3013"]
    # no .00: median of the specialisations, half rounded up (zones 3, 4 -> 4)
    assert zone["11-9179"] == 4
    assert rule["11-9179"].startswith("median of 2 O*NET specialisations 11-9179.01–.02")
    assert used["11-9179"] == "11-9179.01, 11-9179.02"
    # roll-ups through the alignment file
    assert (zone["21-1018"], used["21-1018"]) == (5, "21-1011.00, 21-1014.00")
    assert rule["21-1018"] == "rolled up from SOC 21-1011, 21-1014 (median of zones 5, 5)"
    assert zone["13-1020"] == 4 and "median of zones 3, 4, 4" in rule["13-1020"]
    assert zone["29-2010"] == 4  # zones 3, 4 -> 3.5, rounded half up
    assert zone["51-2090"] == 2 and "no Job Zone for 51-2099" in rule["51-2090"]
    assert zone["53-1047"] == 3 and "no Job Zone for 53-1049" in rule["53-1047"]

    # 26 exact matches have specialisations in other zones than their siblings: 17 have a
    # .00 (whose zone is used), 9 have only specialisations (median)
    by_prefix = jz.group_by(pl.col("onet_soc_code").str.slice(0, 7).alias("soc_code")).agg(
        pl.col("job_zone").n_unique().alias("zones")
    )
    mixed = set(by_prefix.filter(pl.col("zones") > 1)["soc_code"]) & set(ep_codes)
    assert len(mixed) == 26
    mixed_rules = [rule[c] for c in mixed]
    assert sum("specialisations differ" in r for r in mixed_rules) == 17
    assert sum(r.startswith("median of") for r in mixed_rules) == 9


def test_job_zones_by_soc_rules_on_a_small_table() -> None:
    jz = pl.DataFrame(
        {
            "onet_soc_code": [
                "11-1011.00",
                "11-1011.03",
                "11-9199.01",
                "11-9199.02",
                "11-9199.03",
                "21-1011.00",
                "21-1014.00",
                "99-9999.02",
            ],
            "job_zone": [5, 5, 2, 4, 3, 4, 5, 1],
        },
        schema_overrides={"job_zone": pl.Int8},
    )
    alignment = {"21-1018": ["21-1011", "21-1014"], "51-2028": ["51-2022", "51-2023"]}
    codes = ["11-1011", "11-9199", "21-1018", "51-2028", "99-9999", "11-9039", "11-1011"]
    out = job_zones_by_soc(jz, codes, alignment)
    assert out["soc_code"].to_list() == codes[:-1]  # request order, duplicates once
    assert out["job_zone"].to_list() == [5, 3, 5, None, 1, None]
    assert out["job_zone_rule"].to_list() == [
        "O*NET 11-1011.00",
        "median of 3 O*NET specialisations 11-9199.01–.03 (zones 2, 3, 4)",
        "rolled up from SOC 21-1011, 21-1014 (median of zones 4, 5)",
        "no Job Zone: no O*NET-SOC code under its SOC parts 51-2022, 51-2023",
        "O*NET specialisation 99-9999.02 (no 99-9999.00)",
        "no Job Zone: no O*NET-SOC code under 11-9039",
    ]
    assert out["onet_codes"][2] == "21-1011.00, 21-1014.00"
    with pytest.raises(ValueError, match="XX-XXXX"):
        job_zones_by_soc(jz, ["111011"], alignment)


def test_load_alignment_has_both_sections() -> None:
    alignment = load_alignment()
    assert sorted(alignment) == sorted(AGGREGATES + BROAD_AS_DETAILED)
    assert alignment["13-1020"] == ["13-1021", "13-1022", "13-1023"]


# ---- release variants and broken files -------------------------------------------------------
def test_release_without_title_column(tmp_path: Path) -> None:
    path = write_lines(tmp_path / JOB_ZONES_FILE, [HEADER_30, *ROWS_30])
    jz = read_job_zones(path)
    assert jz.height == 4
    assert jz["onet_title"].null_count() == 4
    assert jz.schema["onet_title"] == pl.String
    assert jz.filter(pl.col("onet_soc_code") == "45-3031.00")["job_zone"].item() == 1
    assert jz["domain_source"].to_list()[-1] == "Analyst - Preliminary"


def test_columns_are_selected_by_name(tmp_path: Path) -> None:
    header = "Domain Source\tJob Zone\tO*NET-SOC Code\tDate\tTitle"
    path = write_lines(tmp_path / "jz.txt", [header, "Analyst\t2\t43-4051.00\t08/2024\tReps"])
    row = read_job_zones(path).row(0, named=True)
    assert row == {
        "onet_soc_code": "43-4051.00",
        "onet_title": "Reps",
        "job_zone": 2,
        "date": "08/2024",
        "domain_source": "Analyst",
    }


def test_missing_column_is_named(tmp_path: Path) -> None:
    header = "O*NET-SOC Code\tTitle\tDate\tDomain Source"
    path = write_lines(tmp_path / JOB_ZONES_FILE, [header, "15-1252.00\tSD\t08/2025\tAnalyst"])
    with pytest.raises(SourceError, match="'Job Zone'") as err:
        read_job_zones(path)
    assert "expected" in str(err.value) and "found" in str(err.value)
    assert "What to do" in str(err.value)


@pytest.mark.parametrize("value", ["7", "0", "four", ""])
def test_bad_job_zone_names_the_row(tmp_path: Path, value: str) -> None:
    rows = [*ROWS_30[:2], f"11-3013.01\t{value}\t08/2025\tAnalyst"]
    path = write_lines(tmp_path / JOB_ZONES_FILE, [HEADER_30, *rows])
    with pytest.raises(SourceError, match=r"line 4 \(11-3013\.01\) has Job Zone"):
        read_job_zones(path)


def test_duplicate_codes_are_refused(tmp_path: Path) -> None:
    path = write_lines(tmp_path / JOB_ZONES_FILE, [HEADER_30, *ROWS_30, ROWS_30[0]])
    with pytest.raises(SourceError, match=r"15-1252\.00 \(lines 2 and 6\)"):
        read_job_zones(path)


def test_malformed_code_and_ragged_row(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.txt", [HEADER_30, "15-1252\t4\t08/2025\tAnalyst"])
    with pytest.raises(SourceError, match=r"expected XX-XXXX\.YY"):
        read_job_zones(path)
    path = write_lines(tmp_path / "b.txt", [HEADER_29, "15-1252.00\t4\t08/2025\tAnalyst"])
    with pytest.raises(SourceError, match="line 2 has 4 tab-separated fields"):
        read_job_zones(path)


def test_missing_empty_and_html_files(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="was not found"):
        read_job_zones(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(SourceError, match="is empty"):
        read_job_zones(tmp_path / "empty.txt")
    page = tmp_path / "page.txt"
    page.write_text("<!DOCTYPE html><html><body>Access Denied</body></html>", encoding="utf-8")
    with pytest.raises(SourceError, match="web page"):
        read_job_zones(page)
    header_only = write_lines(tmp_path / "header.txt", [HEADER_30])
    with pytest.raises(SourceError, match="no data rows"):
        read_job_zones(header_only)


def test_reference_needs_all_five_zones(tmp_path: Path) -> None:
    ok = read_job_zone_reference(write_lines(tmp_path / "ok.txt", reference_lines()))
    assert ok["name"].to_list()[2] == "Job Zone Three: x"
    path = write_lines(tmp_path / "four.txt", reference_lines()[:-1])
    with pytest.raises(SourceError, match=r"zones \[1, 2, 3, 4\]"):
        read_job_zone_reference(path)


# ---- database zip -----------------------------------------------------------------------------
def test_extract_from_zip_in_a_release_folder(tmp_path: Path) -> None:
    zip_path = tmp_path / "db_30_0_text.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("db_30_0_text/", "")
        archive.writestr(f"db_30_0_text/{JOB_ZONES_FILE}", "\n".join([HEADER_30, *ROWS_30]))
        archive.writestr(f"db_30_0_text/{JOB_ZONE_REFERENCE_FILE}", "\n".join(reference_lines()))
        archive.writestr("db_30_0_text/Occupation Data.txt", "O*NET-SOC Code\tTitle\n")
        archive.writestr("__MACOSX/db_30_0_text/._Job Zones.txt", "junk")
    out = tmp_path / "out"
    paths = extract_from_zip(zip_path, out)
    assert paths == {
        JOB_ZONES_FILE: out / JOB_ZONES_FILE,
        JOB_ZONE_REFERENCE_FILE: out / JOB_ZONE_REFERENCE_FILE,
    }
    assert sorted(p.name for p in out.iterdir()) == [JOB_ZONE_REFERENCE_FILE, JOB_ZONES_FILE]
    assert read_job_zones(paths[JOB_ZONES_FILE]).height == 4
    assert read_job_zone_reference(paths[JOB_ZONE_REFERENCE_FILE]).height == 5
    assert onet_release_from_zip_name(zip_path) == "30.0"


def test_corrupt_zip(tmp_path: Path) -> None:
    zip_path = tmp_path / "db_30_0_text.zip"
    zip_path.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50)
    with pytest.raises(SourceError, match="not a readable zip archive") as err:
        extract_from_zip(zip_path, tmp_path / "out")
    assert "a refused download is set aside" in str(err.value)
    assert "CCP_ONET_LOCAL_PATH" in str(err.value)


def test_zip_without_job_zone_files(tmp_path: Path) -> None:
    zip_path = tmp_path / "db_30_0_excel.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("db_30_0_excel/Job Zones.xlsx", "x")
        archive.writestr(f"db_30_0_excel/{JOB_ZONE_REFERENCE_FILE}", "x")
    with pytest.raises(SourceError, match=f"has no '{JOB_ZONES_FILE}'"):
        extract_from_zip(zip_path, tmp_path / "out")
    with pytest.raises(SourceError, match="was not found"):
        extract_from_zip(tmp_path / "missing.zip", tmp_path / "out")


@pytest.mark.parametrize(
    ("name", "release"),
    [
        ("db_30_0_text.zip", "30.0"),
        ("db_29_1_text.zip", "29.1"),
        ("/cache/onet/db_30_1_excel.zip", "30.1"),
        ("onet.zip", None),
        ("db_30_0_text.tar.gz", None),
    ],
)
def test_release_from_zip_name(name: str, release: str | None) -> None:
    assert onet_release_from_zip_name(name) == release


def test_default_url_names_a_release() -> None:
    assert onet_release_from_zip_name(DEFAULT_ONET_URL.rsplit("/", 1)[1]) == "30.0"


# ---- licence ----------------------------------------------------------------------------------
def test_attribution() -> None:
    text = attribution("30.0")
    assert "O*NET 30.0 Database" in text
    assert "CC BY 4.0" in text and "USDOL/ETA" in text
    assert "has modified all or some of this information" in text
    plain = attribution("29.1", modified=False)
    assert "29.1" in plain and "CC BY 4.0" in plain and "modified" not in plain
    with pytest.raises(ValueError):
        attribution(" ")
