"""The built-in skill-tier fallback (pipelines/policy/skill_fallback.yaml, fallback.py).

The agreement check reads BLS Employment Projections Table 1.2 in place from ../shared/data
(never copied into the repo) and is skipped when that folder is absent. The EP-based tier uses
the policy mapping of qualification.yaml (restated in `ep_tier` below).
"""

from __future__ import annotations

import re
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from pipelines.policy.fallback import (
    DEFAULT_LEVEL,
    DEFAULT_PATH,
    RULE_LEVELS,
    TIERS,
    fallback_tiers,
    load_fallback_rules,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
README = Path(__file__).resolve().parents[1] / "README.md"
EP_XLSX = DATA / "ep" / "occupation_2024-34.xlsx"
# EP line items that are not OEWS detailed occupations (OEWS has no separate estimates).
EP_NOT_IN_OEWS = {"11-1031", "45-3031"}
MIN_AGREEMENT = 0.90
MAX_RULES = 150

HIGH_EDUCATION = {"Bachelor's degree", "Master's degree", "Doctoral or professional degree"}
MIDDLE_EDUCATION = {
    "Postsecondary nondegree award",
    "Some college, no degree",
    "Associate's degree",
}
HIGH_SCHOOL = "High school diploma or equivalent"
MIDDLE_OJT = {"Long-term on-the-job training", "Apprenticeship", "Internship/residency"}
MIDDLE_EXPERIENCE = {"Less than 5 years", "5 years or more"}

needs_ep = pytest.mark.skipif(not EP_XLSX.exists(), reason=f"{EP_XLSX} not available")


def ep_tier(education: str, experience: str, ojt: str) -> str:
    """The skill tier of one EP line item under the project's policy mapping."""
    if education in HIGH_EDUCATION:
        return "high"
    if education in MIDDLE_EDUCATION:
        return "middle"
    if education == HIGH_SCHOOL and (ojt in MIDDLE_OJT or experience in MIDDLE_EXPERIENCE):
        return "middle"
    return "low"


@pytest.fixture(scope="module")
def rules() -> pl.DataFrame:
    return load_fallback_rules()


@pytest.fixture(scope="module")
def ep() -> pl.DataFrame:
    """EP Table 1.2 line items for the 830 OEWS detailed occupations, with the EP tier."""
    # Everything as text: "None" is an EP category and must not become null.
    sheet = fastexcel.read_excel(EP_XLSX).load_sheet("Table 1.2", header_row=1, dtypes="string")
    columns = {
        "2024 National Employment Matrix code": "soc_code",
        "2024 National Employment Matrix title": "title",
        "Occupation type": "kind",
        "Typical education needed for entry": "education",
        "Work experience in a related occupation": "experience",
        "Typical on-the-job training needed to attain competency in the occupation": "ojt",
    }
    df = sheet.to_polars().select(list(columns)).rename(columns)
    df = df.filter(pl.col("kind") == "Line item").with_columns(
        pl.col("soc_code", "title").str.strip_chars()
    )
    assert df.height == 832
    assert df.select(pl.col("education", "experience", "ojt").null_count()).sum_horizontal()[0] == 0
    df = df.filter(~pl.col("soc_code").is_in(sorted(EP_NOT_IN_OEWS)))
    tiers = [ep_tier(*row) for row in df.select("education", "experience", "ojt").iter_rows()]
    return df.with_columns(pl.Series("ep_tier", tiers, dtype=pl.String))


# ---- the rules file --------------------------------------------------------------------------


def test_rules_file_is_compact_and_explained(rules: pl.DataFrame) -> None:
    groups = rules.filter(pl.col("group_level") != DEFAULT_LEVEL)
    assert rules.filter(pl.col("group_level") == DEFAULT_LEVEL).height == 1
    assert 0 < groups.height <= MAX_RULES
    assert set(groups["group_level"]) <= set(RULE_LEVELS)
    # exceptions for single occupations stay few: the rules are about groups
    assert 0 < groups.filter(pl.col("group_level") == "detailed").height <= 15
    assert set(rules["tier"]) <= set(TIERS)
    assert groups["group_code"].n_unique() == groups.height
    assert (rules["reason"].str.len_chars() >= 20).all()
    # every SOC major group with civilian occupations has its own rule and reason
    majors = {f"{m}-0000" for m in range(11, 54, 2)}
    assert majors <= set(groups.filter(pl.col("group_level") == "major")["group_code"])
    # the README's methodology states how many rules there are
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"skill_fallback.yaml`: {groups.height} rules written by the project" in readme


GOOD_RULE = '  - {group: "15-0000", tier: high, reason: "Computer occupations need a degree."}\n'


@pytest.mark.parametrize(
    ("second_rule", "message"),
    [
        ('  - {group: "15-1200", tier: medium, reason: "x"}\n', "tier 'medium'"),
        ('  - {group: "15-0000", tier: low, reason: "x"}\n', "already used by rule 0"),
        ('  - {group: "15-1230", tier: middle}\n', "reason is required"),
        ('  - {group: "15-1230", tier: middle, reason: "  "}\n', "reason is required"),
        ('  - {group: "151230", tier: middle, reason: "x"}\n', "quoted SOC code"),
        ('  - {group: "15-1230", tier: middle, reason: "x", note: 1}\n', "unknown key"),
    ],
)
def test_bad_rule_is_named(tmp_path: Path, second_rule: str, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        'version: 1\ndefault: {tier: low, reason: "no rule"}\nrules:\n' + GOOD_RULE + second_rule,
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"rule 1 \(group '[0-9-]+'\)") as err:
        load_fallback_rules(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_bad_default_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(f"version: 1\ndefault: {{tier: low}}\nrules:\n{GOOD_RULE}", encoding="utf-8")
    with pytest.raises(ValueError, match="default"):
        load_fallback_rules(path)


# ---- matching --------------------------------------------------------------------------------


def test_most_specific_group_wins(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "version: 1\n"
        'default: {tier: middle, reason: "default reason"}\n'
        "rules:\n"
        '  - {group: "29-0000", tier: low, reason: "major reason"}\n'
        '  - {group: "29-1000", tier: middle, reason: "minor reason"}\n'
        '  - {group: "29-1210", tier: high, reason: "broad reason"}\n'
        '  - {group: "15-1200", tier: high, reason: "computer occupations"}\n'
        '  - {group: "31-1100", tier: low, reason: "aides"}\n'
        '  - {group: "13-1020", tier: high, reason: "buyers"}\n'
        '  - {group: "21-1010", tier: high, reason: "counselors"}\n'
        '  - {group: "53-1040", tier: middle, reason: "supervisors"}\n'
        '  - {group: "29-1292", tier: middle, reason: "hygienists"}\n',
        encoding="utf-8",
    )
    got = fallback_tiers(
        ["29-1229", "29-1141", "29-2061", "15-1252", "31-1131", "13-1020", "21-1018", "53-1047",
         "29-1292", "35-3023"],
        load_fallback_rules(path),
    )  # fmt: skip
    assert got.columns == ["soc_code", "skill_tier", "fallback_group", "reason"]
    assert got.select("soc_code", "skill_tier", "fallback_group").rows() == [
        ("29-1229", "high", "29-1210"),  # Physicians: broad 29-1210 (not 29-1220)
        ("29-1141", "middle", "29-1000"),
        ("29-2061", "low", "29-0000"),
        ("15-1252", "high", "15-1200"),  # minor group XX-XX00 exceptions
        ("31-1131", "low", "31-1100"),
        ("13-1020", "high", "13-1020"),  # broad group published by OEWS as an occupation
        ("21-1018", "high", "21-1010"),  # OEWS aggregates of detailed occupations
        ("53-1047", "middle", "53-1040"),
        ("29-1292", "middle", "29-1292"),  # one occupation's exception beats its groups
        ("35-3023", "middle", None),  # no rule: the default
    ]
    reasons = got["reason"].to_list()
    assert reasons[0] == "built-in rule for SOC broad group 29-1210: high. broad reason"
    assert reasons[1] == "built-in rule for SOC minor group 29-1000: middle. minor reason"
    assert reasons[2] == "built-in rule for SOC major group 29-0000: low. major reason"
    assert reasons[-2] == "built-in rule for SOC detailed occupation 29-1292: middle. hygienists"
    assert reasons[-1] == (
        "built-in default (no rule for the SOC groups of 35-3023): middle. default reason"
    )


def test_bad_codes_are_rejected(rules: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="151252"):
        fallback_tiers(["151252"], rules)
    with pytest.raises(ValueError, match="load_fallback_rules"):
        fallback_tiers(["15-1252"], rules.drop("reason"))


def test_well_known_occupations(rules: pl.DataFrame) -> None:
    got = dict(fallback_tiers(["15-1252", "47-2111", "35-3023", "29-1141", "53-3032", "53-3033"],
                              rules).select("soc_code", "skill_tier").iter_rows())  # fmt: skip
    assert got["15-1252"] == "high"  # software developers: rule 15-0000 (bachelor's degree)
    assert got["47-2111"] == "middle"  # electricians: rule 47-2110 (apprenticeship)
    assert got["35-3023"] == "low"  # fast food and counter workers: rule 35-0000
    assert got["29-1141"] == "high"  # registered nurses: rule 29-1000 (licensed practitioners)
    # Heavy and tractor-trailer truck drivers: middle, by their own rule (a CDL course is a
    # postsecondary award), although broad group 53-3030 and major group 53-0000 are low
    assert got["53-3032"] == "middle"
    assert got["53-3033"] == "low"  # light truck drivers: a regular license, on the job


# ---- agreement with the EP-based tiers -------------------------------------------------------


@needs_ep
def test_every_oews_occupation_gets_one_tier(ep: pl.DataFrame, rules: pl.DataFrame) -> None:
    codes = ep["soc_code"].to_list()
    assert len(codes) == len(set(codes)) == 830
    got = fallback_tiers(codes, rules)
    assert got["soc_code"].to_list() == codes
    assert got["skill_tier"].is_in(list(TIERS)).all()
    assert got["reason"].str.starts_with("built-in ").all()
    # no occupation should need the default: every major group has a rule
    assert got["fallback_group"].null_count() == 0


@needs_ep
def test_agreement_with_ep_tiers(ep: pl.DataFrame, rules: pl.DataFrame) -> None:
    got = ep.join(fallback_tiers(ep["soc_code"].to_list(), rules), on="soc_code", how="left")
    assert got.height == 830
    same = got["ep_tier"] == got["skill_tier"]
    agreement = same.mean()
    tier = pl.Enum(list(TIERS))
    confusion = (
        got.group_by(pl.col("ep_tier").cast(tier), pl.col("skill_tier").cast(tier))
        .len()
        .sort("skill_tier")
        .pivot("skill_tier", index="ep_tier", values="len")
        .fill_null(0)
        .sort("ep_tier")
    )
    by_group = (
        got.filter(~same)
        .group_by("fallback_group")
        .agg(pl.len().alias("disagree"), pl.col("soc_code").sort().str.join(" "))
        .sort("disagree", "fallback_group", descending=[True, False])
    )
    print(f"\nfallback vs EP tiers: {same.sum()} of {got.height} agree ({agreement:.1%})")
    # the figure the rules file and the README quote is this one
    for text in (DEFAULT_PATH.read_text(encoding="utf-8"), README.read_text(encoding="utf-8")):
        quoted = re.search(r"\((\d+) of 830", text)
        assert quoted and int(quoted.group(1)) == same.sum(), quoted
    print("rows = EP tier, columns = fallback tier\n", confusion)
    print("disagreements by matching rule\n", by_group.head(10))
    assert agreement >= MIN_AGREEMENT
    for code, tier in [("15-1252", "high"), ("47-2111", "middle"), ("35-3023", "low"),
                       ("29-1141", "high")]:  # fmt: skip
        assert got.filter(pl.col("soc_code") == code)["ep_tier"].item() == tier
