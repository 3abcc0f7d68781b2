"""The qualification policy (`qualification.yaml`) and the optional per-state living wages CSV.

Both are user-edited files, so both are validated strictly: a wrong value is an error that names
the file, the field or line, and what to do, never a silent default.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Collection
from pathlib import Path
from typing import Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipelines.errors import ExplainedError
from pipelines.policy.csv_text import NotUtf8Error, decode_csv
from pipelines.policy.rules_file import SAFE_LOADER
from pipelines.settings import PROJECT_ROOT

DEFAULT_POLICY_PATH = PROJECT_ROOT / "pipelines" / "policy" / "qualification.yaml"
HOURS_PER_YEAR = 2080
Tier = Literal["low", "middle", "high"]

# USPS codes of the 54 OEWS states and territories and their FIPS codes (OEWS state_code).
STATE_FIPS = {
    "AL": "01", "AK": "02", "AZ": "04", "AR": "05", "CA": "06", "CO": "08", "CT": "09",
    "DE": "10", "DC": "11", "FL": "12", "GA": "13", "HI": "15", "ID": "16", "IL": "17",
    "IN": "18", "IA": "19", "KS": "20", "KY": "21", "LA": "22", "ME": "23", "MD": "24",
    "MA": "25", "MI": "26", "MN": "27", "MS": "28", "MO": "29", "MT": "30", "NE": "31",
    "NV": "32", "NH": "33", "NJ": "34", "NM": "35", "NY": "36", "NC": "37", "ND": "38",
    "OH": "39", "OK": "40", "OR": "41", "PA": "42", "RI": "44", "SC": "45", "SD": "46",
    "TN": "47", "TX": "48", "UT": "49", "VT": "50", "VA": "51", "WA": "53", "WV": "54",
    "WI": "55", "WY": "56", "GU": "66", "PR": "72", "VI": "78",
}  # fmt: skip


# The skill-tier sources as a reader should see them (reports, asset metadata).
SKILL_SOURCE_NAMES = {
    "ep": "BLS Employment Projections (typical entry education and training)",
    "job_zone": "O*NET Job Zones",
    "fallback": "the project's built-in SOC-group rules",
}
SKILL_SOURCE_SHORT_NAMES = {
    "ep": "BLS Employment Projections",
    "job_zone": "O*NET Job Zones",
    "fallback": "The project's built-in SOC-group rules",
}
# The order the screen tries them when the chosen source does not cover an occupation
# (int_qualify__skill_tiers.sql).
SKILL_SOURCE_ORDER = ("ep", "job_zone", "fallback")
# What load_policy writes in place of the project default's description of the threshold.
UNDESCRIBED_SOURCE_START = "not stated in the policy file "
UNDESCRIBED_GEOGRAPHY_END = ", set in the policy file"


class PolicyError(ExplainedError, ValueError):
    """The policy file or the state living-wage CSV is invalid; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EpMapping(_Strict):
    high_education: list[str]
    middle_education: list[str]
    high_school_education: str
    middle_if_high_school_with_ojt: list[str]
    middle_if_high_school_with_experience: list[str]


class JobZoneMapping(_Strict):
    tiers: dict[int, Tier]


class SkillTierPolicy(_Strict):
    source: Literal["ep", "job_zone", "fallback"]
    ep: EpMapping
    job_zone: JobZoneMapping


# No US living-wage figure comes near this; a value above it is a slip (a decimal comma read as
# a thousands separator, an annual figure in the hourly field), refused before it excludes all.
MAX_HOURLY_USD = 200.0


class LivingWagePolicy(_Strict):
    hourly_usd: float = Field(gt=0, le=MAX_HOURLY_USD)
    as_of_year: int = Field(ge=2000, le=2100)
    household: str
    geography: str
    source: str
    wage_statistic: Literal["median", "p25"]
    state_thresholds_csv: Path | None = None

    @property
    def annual_usd(self) -> float:
        return self.hourly_usd * HOURS_PER_YEAR

    @property
    def state_thresholds_path(self) -> Path | None:
        """`state_thresholds_csv` as a path to read (a relative one from the project folder)."""
        csv_path = self.state_thresholds_csv
        if csv_path is None or csv_path.is_absolute():
            return csv_path
        return PROJECT_ROOT / csv_path

    @property
    def is_undescribed(self) -> bool:
        """The threshold was changed without describing it: load_policy replaced the project
        default's geography or source (see _without_stale_default_description)."""
        return self.source.startswith(UNDESCRIBED_SOURCE_START) or self.geography.endswith(
            UNDESCRIBED_GEOGRAPHY_END
        )

    @property
    def label(self) -> str:
        """E.g. "$25.00/h (United States, project default; 1 adult, 0 children; 2026)": the
        parts are separated by semicolons because each may contain commas."""
        return f"${self.hourly_usd:.2f}/h ({self.geography}; {self.household}; {self.as_of_year})"


class QualificationPolicy(_Strict):
    version: Literal[1]
    skill_tier: SkillTierPolicy
    living_wage: LivingWagePolicy

    def skill_rule(self, source: str) -> str:
        """One source and how its values become tiers, in words (the fallback's rules are a
        table of SOC groups: each occupation's reason names the rule that set its tier)."""
        if source == "ep":
            ep = self.skill_tier.ep
            return (
                "BLS Employment Projections' typical entry education and training: high = "
                f"{' / '.join(ep.high_education)}; middle = {' / '.join(ep.middle_education)}, "
                f"or {ep.high_school_education} with "
                f"{' / '.join(ep.middle_if_high_school_with_ojt)} or related work experience"
            )
        if source == "job_zone":
            zones = self.skill_tier.job_zone.tiers
            by_tier = {
                tier: " or ".join(str(z) for z in sorted(zones) if zones[z] == tier)
                for tier in ("high", "middle", "low")
            }
            return "O*NET Job Zones: " + ", ".join(
                f"{tier} = Job Zone {z}" for tier, z in by_tier.items() if z
            )
        return f"{SKILL_SOURCE_NAMES['fallback']} (each occupation's reason names its rule)"

    def skill_item(self, skill_sources: Collection[str]) -> str:
        """Where a release's tiers came from, in the order the screen tried the sources, each
        with its rule: only the sources its tiers really came from."""
        chosen = self.skill_tier.source
        # the chosen source, then the others in the screen's order (the built-in rules, when
        # chosen, are the only source: int_qualify__skill_tiers.sql)
        others = [] if chosen == "fallback" else [s for s in SKILL_SOURCE_ORDER if s != chosen]
        order = [chosen, *others]
        used = [s for s in order if s in skill_sources] or ["fallback"]
        leads = ("Skill tier from", "Where that does not cover an occupation, from",
                 "Where neither does, from")  # fmt: skip
        text = " ".join(
            f"{lead} {self.skill_rule(s)}." for lead, s in zip(leads, used, strict=False)
        )
        if chosen not in used:
            text += (
                f" {SKILL_SOURCE_SHORT_NAMES[chosen]}, the policy's first choice, was not "
                "available when this release was screened."
            )
        return text

    def summary_items(self, skill_sources: Collection[str]) -> list[str]:
        """The policy as a release was screened with it, in three sentences (skill tier, living
        wage, the threshold's source): a list on the report pages, where one paragraph of it
        was hard to scan. `skill_sources`: the sources its tiers came from."""
        statistic = "median" if self.living_wage.wage_statistic == "median" else "25th percentile"
        return [
            self.skill_item(skill_sources),
            f"Living wage: the OEWS {statistic} wage is at least {self.living_wage.label}; "
            f"annual-only occupations are compared on their annual wage with "
            f"${self.living_wage.annual_usd:,.0f} ({HOURS_PER_YEAR:,} hours).",
            f"Source of the threshold: {self.living_wage.source.strip()}",
        ]

    def summary(self, skill_sources: Collection[str]) -> str:
        """One paragraph for asset metadata."""
        return " ".join(self.summary_items(skill_sources))


def load_policy(path: Path = DEFAULT_POLICY_PATH) -> QualificationPolicy:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise PolicyError(
            f"[policy] {path} does not exist.\nWhat to do: check CCP_POLICY_PATH."
        ) from None
    except yaml.YAMLError as err:
        raise PolicyError(
            f"[policy] {path} is not valid YAML: {err}\nWhat to do: fix the file."
        ) from None
    try:
        policy = QualificationPolicy.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: "
            f"{_PLAIN_MESSAGES.get(e['type'], e['msg'])}{_did_you_mean(e)}"
            for e in err.errors()
        )
        raise PolicyError(
            f"[policy] {path} is invalid: {problems}\nWhat to do: fix those fields "
            f"(see the comments in {DEFAULT_POLICY_PATH.name} and the README)."
        ) from None
    return _without_stale_default_description(policy, path)


# pydantic's words for the two mistakes a hand-edited file makes most, in the file's terms
_PLAIN_MESSAGES = {
    "missing": "missing (the shipped qualification.yaml has it, with what it means)",
    "extra_forbidden": "not a setting here",
}


def _sections(
    model: type[BaseModel] = QualificationPolicy, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], set[str]]:
    """The policy file's sections (a path of keys) and the settings each holds."""
    found = {path: set(model.model_fields)}
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            found |= _sections(field.annotation, (*path, name))
    return found


def _did_you_mean(error: dict) -> str:
    """For a key its section does not have: the section it belongs to, or the setting of
    its own section it resembles (a misspelt one, most likely)."""
    if error["type"] != "extra_forbidden":
        return ""
    *section, key = (str(part) for part in error["loc"])
    sections = _sections()
    elsewhere = [".".join(path) for path, names in sections.items() if key in names and path]
    if elsewhere:
        return f" (it belongs under {elsewhere[0]})"
    close = difflib.get_close_matches(key, sorted(sections.get(tuple(section), ())), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# The shipped threshold, and how the shipped file describes it.
PROJECT_DEFAULT_HOURLY_USD = 25.00
_DEFAULT_GEOGRAPHY_MARK = "project default"
_DEFAULT_SOURCE_START = "career-cluster-profiles default"


def _without_stale_default_description(
    policy: QualificationPolicy, path: Path
) -> QualificationPolicy:
    """A threshold changed in the file while its geography or source still describes the
    project default would be printed in every report beside words that no longer fit it
    ("project default", "midpoint ... near the median" under $30.00). Each such field is
    replaced on its own (a source the user wrote is kept); numbers are unchanged. `path` is not
    part of the text: renaming the file changes nothing."""
    wage = policy.living_wage
    if wage.hourly_usd == PROJECT_DEFAULT_HOURLY_USD:
        return policy
    update = {}
    if _DEFAULT_GEOGRAPHY_MARK in wage.geography:
        geography = (
            wage.geography.replace(f", {_DEFAULT_GEOGRAPHY_MARK}", "")
            .replace(_DEFAULT_GEOGRAPHY_MARK, "")
            .strip(" ,;")
            or "United States"
        )
        update["geography"] = geography + UNDESCRIBED_GEOGRAPHY_END
    if wage.source.strip().startswith(_DEFAULT_SOURCE_START):
        update["source"] = (
            f"{UNDESCRIBED_SOURCE_START}(its description is that of the project default, "
            f"${PROJECT_DEFAULT_HOURLY_USD:.2f}/h, so it is not shown)."
        )
    if not update:
        return policy
    return policy.model_copy(update={"living_wage": wage.model_copy(update=update)})


def check_ep_categories(policy: QualificationPolicy, known: dict[str, tuple[str, ...]]) -> None:
    """Every category the policy names must exist in EP (a typo would silently move tiers)."""
    ep = policy.skill_tier.ep
    named = {
        "education": [*ep.high_education, *ep.middle_education, ep.high_school_education],
        "ojt": ep.middle_if_high_school_with_ojt,
        "experience": ep.middle_if_high_school_with_experience,
    }
    unknown = {
        kind: [v for v in values if v not in known[kind]]
        for kind, values in named.items()
        if any(v not in known[kind] for v in values)
    }
    if unknown:
        raise PolicyError(
            f"[policy] skill_tier.ep names categories that BLS EP does not use: {unknown}. "
            f"Known: {known}\nWhat to do: copy the category names exactly."
        )


def load_state_thresholds(path: Path, state_names: dict[str, str]) -> pl.DataFrame:
    """Per-state living wages from a user CSV: state, hourly, source, year.

    `state_names` maps FIPS code -> state name (from the OEWS areas). States may be given as
    postal code, name or FIPS code. Returns state_code (FIPS), hourly_usd, source, year.
    """
    by_name = {name.lower(): code for code, name in state_names.items()}
    rows: list[dict] = []
    seen: dict[str, int] = {}
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(
            f"[living wage CSV] {path} does not exist.\nWhat to do: fix "
            "living_wage.state_thresholds_csv in the policy file."
        ) from None
    try:
        text = decode_csv(data)
    except NotUtf8Error as err:
        raise PolicyError(
            f"[living wage CSV] {path} is not UTF-8 text ({err}).\nWhat to do: save it as "
            '"CSV UTF-8 (Comma delimited)".'
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    expected = ["state", "hourly", "source", "year"]
    if [h.strip().lower() for h in reader.fieldnames or []] != expected:
        semicolons = ";" in "".join(reader.fieldnames or [])
        raise PolicyError(
            f"[living wage CSV] {path}: header is {reader.fieldnames}, expected {expected}."
            + (" The file is separated by semicolons, not commas." if semicolons else "")
            + "\nWhat to do: use exactly these four columns, separated by commas."
        )
    for line, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items()}
        where = f"[living wage CSV] {path}, line {line}"
        state = row["state"]
        code = STATE_FIPS.get(state.upper()) or by_name.get(state.lower())
        if code is None and state.isdigit() and state.zfill(2) in state_names:
            code = state.zfill(2)
        if code is None or code not in state_names:
            raise PolicyError(
                f"{where}: unknown state {state!r}.\nWhat to do: use a postal code (CA), "
                "a state name (California) or a FIPS code (06)."
            )
        if code in seen:
            raise PolicyError(
                f"{where}: {state!r} was already given on line {seen[code]}.\nWhat to do: "
                "keep one row per state."
            )
        if "," in row["hourly"]:  # 21,87: a decimal comma (no hourly wage needs thousands)
            raise PolicyError(
                f"{where}: hourly {row['hourly']!r} has a comma.\nWhat to do: write it with "
                "a decimal point, e.g. 21.87 (a spreadsheet set to a decimal-comma locale "
                "writes 21,87)."
            )
        try:
            hourly = float(row["hourly"].lstrip("$"))
        except ValueError:
            raise PolicyError(
                f"{where}: hourly {row['hourly']!r} is not a number.\nWhat to do: write "
                "the hourly living wage in dollars, e.g. 24.85."
            ) from None
        if not hourly > 0:
            raise PolicyError(f"{where}: hourly must be above 0.\nWhat to do: fix it.")
        if hourly > MAX_HOURLY_USD:
            raise PolicyError(
                f"{where}: hourly {hourly:,.2f} is above ${MAX_HOURLY_USD:.0f} an hour, "
                "more than any living wage.\nWhat to do: write the hourly figure in "
                "dollars (an annual figure divided by 2,080)."
            )
        if not row["year"].isdigit() or not row["source"]:
            raise PolicyError(
                f"{where}: year must be a year (e.g. 2026) and source must say where the "
                "figure comes from.\nWhat to do: fill both."
            )
        seen[code] = line
        rows.append(
            {
                "state_code": code,
                "hourly_usd": hourly,
                "source": row["source"],
                "year": int(row["year"]),
            }
        )
    schema = {"state_code": pl.String, "hourly_usd": pl.Float64, "source": pl.String,
              "year": pl.Int32}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)
