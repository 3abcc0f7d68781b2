"""The qualification screen: skill tier and living wage, every decision explained."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
import yaml

from pipelines.policy.qualification import PolicyError, load_policy, load_state_thresholds
from pipelines.reporting.data import SourcesUsed
from pipelines.settings import PROJECT_ROOT
from tests.support.pipeline import (
    SHARED_DATA,
    failure_text,
    isolated_settings,
    read,
    run_refresh,
    table_digests,
)

EP_XLSX = SHARED_DATA / "ep" / "occupation_2024-34.xlsx"
ONET_DIR = SHARED_DATA / "onet"
POLICY = Path(__file__).resolve().parents[1] / "pipelines" / "policy" / "qualification.yaml"
QUAL = "out_qualify__occupation_qualification"


def national(warehouse: Path, soc: str) -> dict:
    frame = read(
        warehouse,
        f"SELECT * FROM {QUAL} WHERE area_type = 'national' AND soc_code = ?",
        [soc],
    )
    assert frame.height == 1
    return frame.row(0, named=True)


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = isolated_settings(tmp_path_factory.mktemp("offline"))
    result = run_refresh(settings)
    assert result.success, failure_text(result)
    return settings.warehouse


@pytest.fixture(scope="module")
def with_ep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("with_ep")
    settings = isolated_settings(
        tmp, ep_local_path=EP_XLSX, onet_local_path=ONET_DIR, onet_release="29.1"
    )
    result = run_refresh(settings)
    assert result.success, failure_text(result)
    return settings.warehouse


def test_offline_every_occupation_has_one_status_per_geography(offline: Path) -> None:
    counts = read(
        offline,
        f"SELECT area_type, count(*) AS n, count(DISTINCT area_code) AS areas FROM {QUAL} "
        "GROUP BY 1 ORDER BY 1",
    )
    assert counts.rows() == [("national", 830, 1), ("state", 830 * 54, 54)]
    sources = read(offline, "SELECT DISTINCT skill_tier_source FROM int_qualify__skill_tiers")
    assert sources["skill_tier_source"].to_list() == ["fallback"]
    dev = national(offline, "15-1252")
    assert (dev["skill_tier"], dev["status"]) == ("high", "qualifies")
    assert "built-in rule" in dev["reason"]
    used = read(offline, "SELECT source, is_used, note FROM raw_sources__files ORDER BY source")
    assert dict(zip(used["source"], used["is_used"], strict=True)) == {
        "crosswalk": False,
        "ep": False,
        "naics": False,
        "onet": False,
        "soc": False,
    }


def test_living_wage_label_reads_without_nested_parentheses() -> None:
    """The label opens each report's first paragraph: every part of the policy, one level of
    parentheses (the parts hold commas, so semicolons separate them)."""
    wage = load_policy().living_wage
    label = wage.label
    inner = label[label.index("(") + 1 : label.rindex(")")]
    assert "(" not in inner and ")" not in inner, label
    assert inner.split("; ") == [wage.geography, wage.household, str(wage.as_of_year)]
    assert label.startswith(f"${wage.hourly_usd:.2f}/h (")


def test_policy_names_the_sources_a_release_used_each_with_its_rule() -> None:
    """The reports' first policy item: the sources the tiers came from, in the order the screen
    tried them, each with its rule; a source that was not used is not described."""
    policy = load_policy()
    ep, zones = policy.skill_tier.ep, policy.skill_tier.job_zone.tiers
    every = policy.skill_item(["job_zone", "fallback", "ep"])  # as a release lists them
    assert every.startswith("Skill tier from BLS Employment Projections' typical entry ")
    assert every.index("Employment Projections") < every.index("O*NET") < every.index("SOC-group")
    assert f"high = {' / '.join(ep.high_education)};" in every
    high = " or ".join(str(z) for z in sorted(zones) if zones[z] == "high")
    assert f"O*NET Job Zones: high = Job Zone {high}," in every
    offline = policy.skill_item(["fallback"])
    assert offline == (
        "Skill tier from the project's built-in SOC-group rules (each occupation's reason names "
        "its rule). BLS Employment Projections, the policy's first choice, was not available "
        "when this release was screened."
    )
    onet_first = policy.model_copy(
        update={"skill_tier": policy.skill_tier.model_copy(update={"source": "job_zone"})}
    )
    text = onet_first.skill_item(["ep", "job_zone"])
    assert text.index("O*NET Job Zones") < text.index("Where that does not cover an occupation")
    assert "Employment Projections' typical" in text and "first choice" not in text
    assert "Bachelor's degree" not in policy.skill_item(["job_zone"])


def test_software_developers_qualify_with_ep(with_ep: Path) -> None:
    dev = national(with_ep, "15-1252")
    assert dev["skill_tier"] == "high" and dev["skill_tier_source"] == "ep"
    assert dev["status"] == "qualifies"
    assert dev["wage_used_usd"] == 65.38 and dev["wage_used_unit"] == "hour"
    assert dev["threshold_used_usd"] == 25.0
    assert dev["living_wage_margin_usd"] == pytest.approx(40.38)
    assert "Bachelor's degree" in dev["reason"] and "$65.38" in dev["reason"]


def test_local_copies_are_recorded_under_their_own_names(with_ep: Path) -> None:
    """The provenance a report cites names the file read, not the download's default name
    (occupation.xlsx, db_30_0_text.zip); the release's tables record the same files."""
    files = read(
        with_ep, "SELECT source, file_name, url FROM raw_sources__files WHERE is_used ORDER BY 1"
    )
    assert files.rows() == [
        ("ep", EP_XLSX.name, EP_XLSX.resolve().as_uri()),
        ("onet", "Job Zones.txt", (ONET_DIR / "Job Zones.txt").resolve().as_uri()),
    ]
    recorded = read(
        with_ep,
        "SELECT DISTINCT source, file_name FROM raw_sources__release_files "
        "WHERE release_code = '2025A01' AND is_used ORDER BY 1",
    )
    assert recorded.rows() == [("ep", EP_XLSX.name), ("onet", "Job Zones.txt")]


def test_the_screen_metadata_cites_the_files_its_skill_tiers_were_built_with(
    with_ep: Path, offline: Path, tmp_path: Path
) -> None:
    """The UI's `sources` for the screen lists the EP and O*NET files the release's skill
    tiers read, not every file the latest run loaded (the code lists are not its sources)."""
    for name, base, cited, note in [("ep", with_ep, True, False), ("off", offline, False, True)]:
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(base, folder / "warehouse.duckdb")
        overrides = {"ep_local_path": EP_XLSX, "onet_local_path": ONET_DIR} if cited else {}
        result = run_refresh(isolated_settings(folder, **overrides), "qualify_occupations")
        assert result.success, failure_text(result)
        (event,) = result.asset_materializations_for_node(QUAL)
        meta = {k: v.value for k, v in event.metadata.items()}
        assert (EP_XLSX.name in meta["sources"]) is cited
        assert ("Job Zones.txt" in meta["sources"]) is cited
        cells = [cell.strip() for cell in meta["sources"].split("|")]
        assert "naics" not in cells and "soc" not in cells and "crosswalk" not in cells
        assert ("built-in SOC-group rules" in meta.get("note", "")) is note


def test_no_credential_short_term_training_is_low_skill(with_ep: Path) -> None:
    fast_food = national(with_ep, "35-3023")
    assert fast_food["skill_tier"] == "low" and fast_food["status"] == "excluded"
    assert "No formal educational credential" in fast_food["reason"]
    assert "Short-term on-the-job training" in fast_food["reason"]


def test_high_school_with_apprenticeship_is_middle_skill(with_ep: Path) -> None:
    electrician = national(with_ep, "47-2111")
    assert electrician["skill_tier"] == "middle"
    assert "Apprenticeship" in electrician["reason"]


def test_annual_only_teacher_is_tested_on_annual_wage(with_ep: Path) -> None:
    teacher = national(with_ep, "25-2021")
    assert teacher["wage_basis"] == "annual" and teacher["wage_used_unit"] == "year"
    assert teacher["threshold_used_usd"] == 25.0 * 2080
    assert teacher["wage_used_usd"] > 52_000 and teacher["status"] == "qualifies"
    assert "paid annually only" in teacher["reason"]


def test_suppressed_wage_is_undetermined(with_ep: Path) -> None:
    frame = read(with_ep, f"SELECT * FROM {QUAL} WHERE status = 'undetermined'")
    assert frame.height > 0
    assert frame.filter(pl.col("wage_used_usd").is_not_null()).height == 0
    assert frame["reason"].str.starts_with("undetermined: ").all()
    assert frame.filter(pl.col("reason").str.contains("footnote 8")).height > 0
    assert frame.filter(pl.col("skill_tier") == "low").height == 0


def test_fallback_agrees_with_ep_on_at_least_90_percent(with_ep: Path) -> None:
    frame = read(
        with_ep,
        "SELECT avg(CAST(fallback_skill_tier = ep_skill_tier AS INTEGER)) AS agreement "
        "FROM int_qualify__skill_tiers WHERE ep_skill_tier IS NOT NULL",
    )
    assert frame["agreement"][0] >= 0.90


def write_policy(tmp: Path, **living_wage: object) -> Path:
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    data["living_wage"].update(living_wage)
    path = tmp / "policy.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def rescreen(base: Path, tmp: Path, policy: Path) -> Path:
    """Copy a built warehouse and re-run only the qualify job with another policy."""
    shutil.copy(base, tmp / "warehouse.duckdb")
    settings = isolated_settings(
        tmp, ep_local_path=EP_XLSX, onet_local_path=ONET_DIR, policy_path=policy
    )
    result = run_refresh(settings, "qualify_occupations")
    assert result.success, failure_text(result)
    return settings.warehouse


def test_policy_change_in_configuration_changes_the_result(with_ep: Path, tmp_path: Path) -> None:
    warehouse = rescreen(with_ep, tmp_path, write_policy(tmp_path, hourly_usd=70.0))
    dev = national(warehouse, "15-1252")
    assert dev["status"] == "excluded" and "$70.00/h" in dev["reason"]
    entry = rescreen(with_ep, tmp_path, write_policy(tmp_path, wage_statistic="p25"))
    dev = national(entry, "15-1252")
    assert dev["wage_statistic"] == "p25" and dev["wage_used_usd"] < 65.38


def test_job_zone_policy_uses_onet(with_ep: Path, tmp_path: Path) -> None:
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    data["skill_tier"]["source"] = "job_zone"
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(data), encoding="utf-8")
    warehouse = rescreen(with_ep, tmp_path, policy)
    dev = national(warehouse, "15-1252")
    assert dev["skill_tier_source"] == "job_zone" and dev["skill_tier"] == "high"
    tiers = read(warehouse, "SELECT skill_tier_reason FROM int_qualify__skill_tiers "
                            "WHERE soc_code = '15-1252'")  # fmt: skip
    assert "Job Zone 4" in tiers["skill_tier_reason"][0]
    # the reports and their workbooks carry O*NET's attribution, naming the release loaded
    [release] = read(warehouse, "SELECT DISTINCT onet_release FROM stg_onet__job_zones")[
        "onet_release"
    ]
    assert release == "29.1"  # CCP_ONET_RELEASE: the folder's name does not say it
    cited = "information from the O*NET 29.1 Database"
    page = (tmp_path / "reports" / "2025A01" / "digital-technology.html").read_text()
    assert cited in page and "CC BY 4.0" in page
    folder = tmp_path / "reports" / "2025A01" / "downloads" / "digital-technology"
    book = openpyxl.load_workbook(folder / "digital-technology.xlsx", read_only=True)
    assert book.sheetnames[0] == "about"
    about = [row[0] for row in book["about"].iter_rows(min_row=2, values_only=True)]
    assert any(cited in line and "CC BY 4.0" in line for line in about)
    # the skill sources in the order the screen tried them, as the report says: O*NET first
    [skills] = [line for line in about if line.startswith("Skill tier from ")]
    assert skills.startswith("Skill tier from O*NET Job Zones")
    assert "Where that does not cover an occupation, from BLS Employment Projections" in skills
    # a release nobody stated is said so in published text, without setup advice
    unknown = SourcesUsed(("job_zone",), ("rules",)).onet_attribution
    assert unknown and "O*NET (release not recorded) Database" in unknown and "CCP_" not in unknown
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("UPDATE stg_onet__job_zones SET onet_release = NULL")
    finally:
        con.close()
    shutil.copy(warehouse, tmp_path / "unstated.duckdb")
    again = rescreen(tmp_path / "unstated.duckdb", tmp_path, policy)
    [reason] = read(
        again, "SELECT skill_tier_reason FROM int_qualify__skill_tiers WHERE soc_code = '15-1252'"
    )["skill_tier_reason"]
    assert "O*NET (release not recorded) Job Zone 4" in reason and "CCP_" not in reason


def test_state_thresholds_from_csv(with_ep: Path, tmp_path: Path) -> None:
    csv = tmp_path / "states.csv"
    csv.write_text("state,hourly,source,year\nCA,30.50,Test figure,2026\nTexas,21,Test,2026\n")
    warehouse = rescreen(with_ep, tmp_path, write_policy(tmp_path, state_thresholds_csv=str(csv)))
    frame = read(
        warehouse,
        f"SELECT area_name, threshold_hourly_usd, threshold_label FROM {QUAL} "
        "WHERE soc_code = '15-1252' AND area_name IN ('California', 'Texas', 'Ohio') ORDER BY 1",
    )
    assert frame["threshold_hourly_usd"].to_list() == [30.5, 25.0, 21.0]
    assert "no state figure given" in frame["threshold_label"][1]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("state,hourly,source,year\nCA,abc,x,2026\n", "line 2: hourly 'abc' is not a number"),
        ("state,hourly,source,year\nAtlantis,20,x,2026\n", "line 2: unknown state 'Atlantis'"),
        ("state,hourly,source,year\nCA,20,x,2026\nCalifornia,21,x,2026\n", "line 3"),
        ("state,hourly,source,year\nCA,0,x,2026\n", "above 0"),
        ("state,wage\nCA,20\n", "expected ['state', 'hourly', 'source', 'year']"),
        # a decimal comma, as a spreadsheet in such a locale writes it: not 2,187 dollars
        ('state,hourly,source,year\nCA,"21,87",x,2026\n', "line 2: hourly '21,87' has a comma"),
        ("state,hourly,source,year\nCA,52000,x,2026\n", "line 2: hourly 52,000.00 is above $200"),
        ("state;hourly;source;year\nCA;21.87;x;2026\n", "separated by semicolons, not commas"),
    ],
)
def test_bad_state_csv_names_the_line(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text(content)
    with pytest.raises(PolicyError) as err:
        load_state_thresholds(path, {"06": "California", "48": "Texas"})
    assert fragment in str(err.value) and str(path) in str(err.value)


def test_a_state_csv_saved_as_plain_csv_by_excel_is_named(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes("state,hourly,source,year\nCA,21.87,Montréal,2026\n".encode("cp1252"))
    with pytest.raises(PolicyError) as err:
        load_state_thresholds(path, {"06": "California"})
    assert "is not UTF-8 text (line 2 has the byte 0xe9)" in str(err.value)
    assert 'save it as "CSV UTF-8 (Comma delimited)"' in str(err.value)


def test_a_policy_threshold_no_living_wage_reaches_is_refused(tmp_path: Path) -> None:
    policy = (PROJECT_ROOT / "pipelines/policy/qualification.yaml").read_text()
    path = tmp_path / "policy.yaml"
    path.write_text(policy.replace("hourly_usd: 25.00", "hourly_usd: 2500"))
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert "hourly_usd" in str(err.value) and "200" in str(err.value)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"hourly_usd": 0}, "living_wage.hourly_usd"),
        ({"wage_statistic": "mean"}, "living_wage.wage_statistic"),
        ({"colour": "blue"}, "living_wage.colour"),
    ],
)
def test_bad_policy_names_the_field(tmp_path: Path, change: dict, fragment: str) -> None:
    with pytest.raises(PolicyError) as err:
        load_policy(write_policy(tmp_path, **change))
    assert fragment in str(err.value)


def test_a_misspelt_policy_setting_is_named_with_the_one_it_resembles(tmp_path: Path) -> None:
    data = yaml.safe_load((PROJECT_ROOT / "pipelines/policy/qualification.yaml").read_text())
    data["living_wage"]["wage_statistc"] = data["living_wage"].pop("wage_statistic")
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert (
        "living_wage.wage_statistic: missing (the shipped qualification.yaml has it, with what "
        "it means); living_wage.wage_statistc: not a setting here (did you mean "
        "'wage_statistic'?)"
    ) in str(err.value)
    # a setting of another section is said to belong there
    data["living_wage"]["wage_statistic"] = data["living_wage"].pop("wage_statistc")
    data["skill_tier"]["hourly_usd"] = 30
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert ("skill_tier.hourly_usd: not a setting here (it belongs under living_wage)") in str(
        err.value
    )


def test_a_changed_threshold_is_not_printed_with_the_default_description(tmp_path: Path) -> None:
    """Only hourly_usd edited: the shipped geography and source describe $25.00 ("midpoint ...
    near the median"), so the reports would state them beside another figure."""
    default = load_policy().living_wage
    changed = load_policy(write_policy(tmp_path, hourly_usd=30.0)).living_wage
    assert changed.hourly_usd == 30.0  # the number is the user's, untouched
    assert changed.label.startswith("$30.00/h (United States, set in the policy file; ")
    assert "project default" not in changed.label and "midpoint" not in changed.source
    assert changed.source == (
        "not stated in the policy file (its description is that of the project default, "
        "$25.00/h, so it is not shown)."
    )
    # described by the user: shown as written, field by field
    described = load_policy(
        write_policy(tmp_path, hourly_usd=30.0, geography="Ohio", source="MIT LWC, Ohio, 2026")
    ).living_wage
    assert (described.geography, described.source) == ("Ohio", "MIT LWC, Ohio, 2026")
    assert changed.is_undescribed and not described.is_undescribed
    assert not default.is_undescribed
    source_only = load_policy(write_policy(tmp_path, hourly_usd=30.0, source="MIT LWC, 2026"))
    assert source_only.living_wage.source == "MIT LWC, 2026"
    assert source_only.living_wage.geography == "United States, set in the policy file"
    assert load_policy().living_wage == default


def test_malformed_ep_workbook_keeps_previous_qualification(with_ep: Path, tmp_path: Path) -> None:
    from openpyxl import Workbook

    broken = tmp_path / "occupation.xlsx"
    book = Workbook()
    book.active.title = "Table 1.1"
    book.active["A1"] = "Employment by major occupational group"
    book.save(broken)
    shutil.copy(with_ep, tmp_path / "warehouse.duckdb")
    settings = isolated_settings(tmp_path, ep_local_path=broken, onet_local_path=ONET_DIR)
    before = table_digests(settings.warehouse)
    result = run_refresh(settings)
    assert not result.success
    message = failure_text(result)
    assert "Table 1.2" in message and "What to do" in message
    after = table_digests(settings.warehouse)
    for table in (QUAL, "int_qualify__skill_tiers", "stg_ep__occupations"):
        assert after[table] == before[table], table
