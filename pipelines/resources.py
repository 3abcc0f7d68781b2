"""Dagster resources, configured once from `Settings` in `pipelines/definitions.py`.

`SourcesResource` decides where each source comes from: a user's local copy if one is set,
otherwise the embedded package data (offline default) or a live download, per `source_mode`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import Literal

from dagster import (
    ConfigurableResource,
    InputContext,
    IOManager,
    IOManagerDefinition,
    OutputContext,
)
from pydantic import Field

from pipelines.policy.qualification import QualificationPolicy, load_policy
from pipelines.settings import Settings
from pipelines.sources.cache import refused_downloads_set_aside
from pipelines.sources.files import FetchedFile, SourceError, describe_local_file
from pipelines.sources.http import Downloader
from pipelines.sources.oews import (
    FLAT_FILES,
    OewsSource,
    embedded_manifest,
    open_embedded,
    read_release_code,
)
from pipelines.sources.oews_xlsx import workbook_from
from pipelines.sources.oews_xlsx_industries import industry_workbooks_from
from pipelines.warehouse import WarehouseResource, connection_config


class SourcesResource(ConfigurableResource):
    """Where the source data comes from, and how to download it politely."""

    source_mode: str = Field("embedded", description="embedded (offline) or live")
    cache_dir: str = Field(description="downloads and unpacked files")
    contact: str | None = Field(None, description="e-mail for the User-Agent of live downloads")
    bls_base_url: str = Field(description="folder holding the OEWS time-series flat files")
    oews_local_dir: str | None = Field(None, description="local copies of the oe.* files")
    oews_xlsx_year: int | None = Field(None, description="earlier release to backfill (live)")
    oews_xlsx_base_url: str = Field(
        "https://www.bls.gov/oes/special-requests/", description="folder of oesmYYnat.zip"
    )
    oews_xlsx_local_path: str | None = Field(None, description="local national workbook or zip")
    oews_xlsx_industry_local_path: str | None = Field(
        None, description="local oesmYYin4.zip (national industry workbooks)"
    )
    oews_xlsx_industries: bool = Field(False, description="download oesmYYin4.zip (live)")
    naics_url: str = Field(description="Census NAICS 2022 workbook URL")
    naics_local_path: str | None = Field(None, description="local Census NAICS workbook")
    soc_url: str = Field(description="BLS SOC 2018 structure workbook URL")
    soc_local_path: str | None = Field(None, description="local soc_structure_2018.xlsx")
    ep_url: str = Field(description="BLS EP occupation.xlsx URL")
    ep_local_path: str | None = Field(None, description="local occupation.xlsx")
    onet_url: str = Field(description="O*NET text database zip URL")
    onet_local_path: str | None = Field(None, description="local O*NET zip or folder")
    onet_release: str | None = Field(None, description="O*NET release of a local copy")
    crosswalk_url: str = Field(description="Advance CTE Framework Crosswalk URL")
    crosswalk_local_path: str | None = Field(None, description="local crosswalk workbook")
    review_decisions_path: str = Field(description="reviewer decisions CSV")
    http_timeout_s: float = 60.0
    http_max_retries: int = 4
    http_backoff_s: float = 2.0
    http_min_interval_s: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SourcesResource:
        def opt(path: Path | None) -> str | None:
            return str(settings.resolve(path)) if path else None

        return cls(
            source_mode=settings.source_mode,
            cache_dir=str(settings.cache),
            contact=settings.contact,
            bls_base_url=settings.bls_base_url,
            oews_local_dir=opt(settings.oews_local_dir),
            oews_xlsx_year=settings.oews_xlsx_year,
            oews_xlsx_base_url=settings.oews_xlsx_base_url,
            oews_xlsx_local_path=opt(settings.oews_xlsx_local_path),
            oews_xlsx_industry_local_path=opt(settings.oews_xlsx_industry_local_path),
            oews_xlsx_industries=settings.oews_xlsx_industries,
            naics_url=settings.naics_url,
            naics_local_path=opt(settings.naics_local_path),
            soc_url=settings.soc_url,
            soc_local_path=opt(settings.soc_local_path),
            ep_url=settings.ep_url,
            ep_local_path=opt(settings.ep_local_path),
            onet_url=settings.onet_url,
            onet_local_path=opt(settings.onet_local_path),
            onet_release=settings.onet_release,
            crosswalk_url=settings.crosswalk_url,
            crosswalk_local_path=opt(settings.crosswalk_local_path),
            review_decisions_path=str(settings.resolve(settings.review_decisions_path)),
            http_timeout_s=settings.http_timeout_s,
            http_max_retries=settings.http_max_retries,
            http_backoff_s=settings.http_backoff_s,
            http_min_interval_s=settings.http_min_interval_s,
        )

    # ---- helpers ---------------------------------------------------------------------------
    def downloader(self, logger: logging.Logger | None = None) -> Downloader:
        return Downloader(
            Path(self.cache_dir),
            self.contact,
            timeout_s=self.http_timeout_s,
            max_retries=self.http_max_retries,
            backoff_s=self.http_backoff_s,
            min_interval_s=self.http_min_interval_s,
            logger=logger,
        )

    def mode_for(self, local: str | None) -> str:
        """'local' when the user points to a copy, else the configured mode."""
        return "local" if local else self.source_mode

    # ---- OEWS ------------------------------------------------------------------------------
    def history_release(self) -> str | None:
        """The release a configured history backfill holds (from CCP_OEWS_XLSX_YEAR or the
        workbook's name: national_MYYYY_dl.xlsx / oesmYYnat.zip), if one is configured."""
        if self.oews_xlsx_local_path:
            name = Path(self.oews_xlsx_local_path).name
            found = re.search(r"national_M(\d{4})_dl|oesm(\d\d)nat", name)
            if not found:
                return None  # read_recorded_workbook explains the naming rule
            year = found.group(1) or f"20{found.group(2)}"
            return f"{year}A01"
        return f"{int(self.oews_xlsx_year)}A01" if self.oews_xlsx_year else None

    def current_release(
        self, logger: logging.Logger | None = None, *, backfill: bool = True
    ) -> str:
        """The release a run targets when none is named: the configured history backfill, or
        the release the embedded snapshot, the local copy or BLS's current oe.release holds.
        `backfill=False` (the annual schedule) skips the backfill: a setting left in place
        from a backfill must not turn the yearly refresh into a refresh of that year."""
        history = self.history_release()
        if history and backfill:
            return history
        # configured, and its name does not say the year: any run would read that workbook, so
        # a target cannot be told, even for the schedule
        if not history and self.oews_xlsx_local_path:
            name = Path(self.oews_xlsx_local_path).name
            raise SourceError(
                f"oews history ({name})",
                f"{name} is not named like BLS's national workbook (national_MYYYY_dl.xlsx or "
                "oesmYYnat.zip), so its release is unknown",
                "Keep BLS's file name (national_MYYYY_dl.xlsx), or point to the oesmYYnat.zip "
                "it came in.",
            )
        mode = self.mode_for(self.oews_local_dir)
        if mode == "embedded":
            return str(embedded_manifest()["release"]["code"])
        if mode == "local":
            file = describe_local_file(
                Path(str(self.oews_local_dir)) / "oe.release",
                source="oews",
                name="oe.release",
                expect="text",
            )
        else:
            file = self.downloader(logger).fetch(
                self.bls_base_url + "oe.release", source="oews", name="oe.release", expect="text"
            )
        return read_release_code(file)

    def oews(self, logger: logging.Logger | None = None, release: str | None = None) -> OewsSource:
        """The OEWS files for `release`: BLS's national workbook when it is the configured
        history backfill's release (or no release is named and a backfill is configured);
        otherwise the embedded snapshot, a live download or a local folder."""
        history = self.history_release()
        configured = bool(self.oews_xlsx_local_path or self.oews_xlsx_year)
        if configured and (release is None or history in (None, release)):
            return self.oews_history(logger)
        mode = self.mode_for(self.oews_local_dir)
        if mode == "embedded":
            return open_embedded(Path(self.cache_dir))
        if mode == "local":
            folder = Path(str(self.oews_local_dir))
            files = tuple(
                describe_local_file(folder / name, source="oews", name=name, expect="text")
                for name in FLAT_FILES
            )
            return OewsSource(mode="local", label=f"local copy: {folder}", files=files)
        downloader = self.downloader(logger)
        files = tuple(
            downloader.fetch(self.bls_base_url + name, source="oews", name=name, expect="text")
            for name in FLAT_FILES
        )
        return OewsSource(mode="live", label=f"live: {self.bls_base_url}", files=files)

    def oews_history(self, logger: logging.Logger | None = None) -> OewsSource:
        """One earlier release from BLS's national workbook (local copy, or oesmYYnat.zip)."""
        if self.oews_xlsx_local_path:
            path = Path(self.oews_xlsx_local_path)
            expect = "zip" if path.suffix.lower() == ".zip" else "xlsx"
            given = describe_local_file(path, source="oews", name=path.name, expect=expect)
            label = f"local copy: {path}"
        else:
            name = f"oesm{int(str(self.oews_xlsx_year)) % 100:02d}nat.zip"
            url = self.oews_xlsx_base_url + name
            given = self.downloader(logger).fetch(url, source="oews", name=name, expect="zip")
            label = f"live: {url}"
        with refused_downloads_set_aside([given]):
            workbook, year = workbook_from(given, Path(self.cache_dir))
        files = [given]
        if workbook != given.path:  # unzipped: record the workbook that was parsed, too
            inner = describe_local_file(workbook, source="oews", name=workbook.name, expect="xlsx")
            files.append(dataclasses.replace(inner, url=f"{given.url}#{workbook.name}"))
        industries = self.oews_history_industries(year, logger)
        if industries is not None:
            files.append(industries)
            with refused_downloads_set_aside([industries]):
                paths = industry_workbooks_from(industries, Path(self.cache_dir))
            for path in paths:
                inner = describe_local_file(path, source="oews", name=path.name, expect="xlsx")
                files.append(dataclasses.replace(inner, url=f"{industries.url}#{path.name}"))
            label += f" + {industries.name}"
        return OewsSource(mode="xlsx", label=f"BLS national workbook, {label}", files=tuple(files))

    def oews_history_industries(
        self, year: str, logger: logging.Logger | None = None
    ) -> FetchedFile | None:
        """BLS's oesmYYin4.zip for the backfill year, when given (local) or asked for (live)."""
        if self.oews_xlsx_industry_local_path:
            path = Path(self.oews_xlsx_industry_local_path)
            return describe_local_file(path, source="oews", name=path.name, expect="zip")
        if self.oews_xlsx_industries:
            name = f"oesm{int(year) % 100:02d}in4.zip"
            url = self.oews_xlsx_base_url + name
            return self.downloader(logger).fetch(url, source="oews", name=name, expect="zip")
        return None

    # ---- code lists ------------------------------------------------------------------------
    def optional_file(
        self,
        source: str,
        url: str,
        local: str | None,
        name: str,
        expect: Literal["xlsx", "zip", "text"],
        logger: logging.Logger | None,
    ) -> FetchedFile | None:
        """A source file from a local copy or a live download; None in embedded mode (offline),
        where the caller uses the embedded data or the project's fallback instead. `name` is
        the download's; a local copy is recorded under its own name (the provenance a report
        cites: db_29_1_text.zip is not the default URL's db_30_0_text.zip)."""
        mode = self.mode_for(local)
        if mode == "local":
            path = Path(str(local))
            return describe_local_file(path, source=source, name=path.name, expect=expect)
        if mode == "live" and url:  # an empty URL leaves the source out of a live run
            return self.downloader(logger).fetch(url, source=source, name=name, expect=expect)
        return None

    def unavailable_note(self, url_setting: str, local_setting: str) -> str:
        """Why a source `optional_file` returned None was not used, and how to use it (the
        reports' provenance table shows it, for the researcher who runs the pipeline)."""
        if self.source_mode == "live":
            return (
                f"left out of this run ({url_setting} is empty); to use it, set {url_setting} "
                f"or {local_setting}"
            )
        return (
            "no copy offline (the pipeline ran from its embedded data); to use it, set "
            f"{local_setting} or run in live mode"
        )


class PolicyResource(ConfigurableResource):
    """The qualification policy file (skill-tier mapping, living-wage threshold)."""

    policy_path: str = Field(description="path of qualification.yaml")

    def load(self) -> QualificationPolicy:
        return load_policy(Path(self.policy_path))


class ReportsResource(ConfigurableResource):
    """Where the generated reports go (a git-ignored folder, one subfolder per release)."""

    output_dir: str = Field(description="generated reports folder")

    @property
    def path(self) -> Path:
        return Path(self.output_dir)


def warehouse_from_settings(settings: Settings) -> WarehouseResource:
    return WarehouseResource(
        database=str(settings.warehouse),
        connection_config=connection_config(settings.duckdb_threads, settings.duckdb_memory_limit),
        lock_wait_s=settings.lock_wait_s,
    )


class NoValuesIOManager(IOManager):
    """Every asset writes its own table to DuckDB and returns only metadata, so no value passes
    from step to step through Dagster. Its default IO manager (pickles on disk) would still be
    set up in every run, for nothing; this one costs nothing, and says so if a value appears."""

    def handle_output(self, context: OutputContext, obj: object) -> None:
        if obj is not None:
            raise TypeError(
                f"{context.step_key} produced a value ({type(obj).__name__}) for Dagster to "
                "store: assets here write their tables to the warehouse and return metadata "
                "only (MaterializeResult without a value)"
            )

    def load_input(self, context: InputContext) -> object:
        raise TypeError(
            f"input {context.name!r} of {context.op_def.name} asks for an upstream value: "
            "read the upstream table from the warehouse instead (declare it in deps=)"
        )


NO_VALUES_IO_MANAGER = IOManagerDefinition.hardcoded_io_manager(
    NoValuesIOManager(), description="No values between steps: the tables are in DuckDB."
)


__all__ = [
    "NO_VALUES_IO_MANAGER",
    "NoValuesIOManager",
    "PolicyResource",
    "ReportsResource",
    "SourceError",
    "SourcesResource",
    "warehouse_from_settings",
]
