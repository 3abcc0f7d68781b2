"""Asset checks: each table's pandera contract, and SQL checks that return failing rows.

Contracts are also enforced inside the assets before a table is swapped in (so bad rows never
land), and that validation is recorded with a digest of the content: a contract check whose live
table is still exactly that content, under the same contract, reports it instead of validating
the same rows again; any other table (written by older code, changed by hand, another contract)
is validated in full.

The checks of one asset run in one step (`multi_asset_check`): each check is still its own
named, blocking check in the UI, but a run pays Dagster's per-step cost (about 0.1 s with the
SQLite instance) once per asset instead of once per check.
"""

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass

import duckdb
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from pipelines.errors import ExplainedError
from pipelines.metadata import markdown_table
from pipelines.warehouse import WarehouseResource, passed_contract, query_frame, table_exists
from schemas import CONTRACTS, ContractError, contract_sha256, validate_table

POOL = "duckdb"


@dataclass(frozen=True)
class Check:
    """One check of one asset: its contract (`failing_rows_sql` None) or a SQL query whose
    rows are the failures."""

    asset: str
    name: str
    description: str
    failing_rows_sql: str | None = None
    blocking: bool = True
    deps: tuple[str, ...] = ()
    remedy: str = ""
    table: str = ""  # the table a contract check validates (its asset's, or one its step writes)

    @property
    def key(self) -> AssetCheckKey:
        return AssetCheckKey(AssetKey(self.asset), self.name)

    def spec(self) -> AssetCheckSpec:
        return AssetCheckSpec(
            name=self.name,
            asset=self.asset,
            description=self.description,
            blocking=self.blocking,
            additional_deps=list(self.deps),
        )


def contract_check(table: str, asset: str = "") -> Check:
    """A blocking check that validates `table` against its pandera model: a check of the asset
    `table`, or of `asset` when its step writes `table` beside its own."""
    model = CONTRACTS[table]
    return Check(
        asset=asset or table,
        name=f"{table}__contract",
        description=f"Every row satisfies the contract in schemas/{table}.py ({model.__name__}).",
        table=table,
    )


def sql_check(
    asset: str,
    name: str,
    description: str,
    failing_rows_sql: str,
    *,
    blocking: bool = True,
    deps: list[str] | None = None,
    remedy: str = "",
) -> Check:
    """A check that passes when `failing_rows_sql` returns no rows; shows up to 20 of them.
    `remedy` is what a user can do when it fails (said when it stops a swap)."""
    return Check(asset, name, description, failing_rows_sql, blocking, tuple(deps or ()), remedy)


class CheckFailedError(ExplainedError, ValueError):
    """A blocking check failed on a new table before it was swapped in; nothing was written."""


def before_swap(
    checks: Sequence[Check], release: str
) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """`write_table`'s `before_commit` for blocking SQL checks a user's input can break (e.g. a
    reviewer decision): run inside the swap on the release being written (their failing rows
    carry release_code), a failure rolls it back, so the live table never holds rows its own
    checks reject. Only for checks whose other tables are upstream of the asset (already
    current when it runs); the check step still runs them, on every release, for the UI."""

    def run(con: duckdb.DuckDBPyConnection) -> None:
        for check in checks:
            if check.failing_rows_sql is None or not check.blocking:
                raise TypeError(f"{check.name}: only blocking SQL checks run before a swap")
            failing = query_frame(
                con, f"SELECT * FROM ({check.failing_rows_sql}) WHERE release_code = ?", [release]
            )
            if failing.height:
                rows = "\n".join(
                    "  " + ", ".join(str(v) for v in row) for row in failing.head(5).iter_rows()
                )
                more = f"\n  ... and {failing.height - 5} more" if failing.height > 5 else ""
                remedy = check.remedy or "report this with the message above."
                raise CheckFailedError(
                    f"[{check.asset}] check {check.name} failed for {failing.height} row(s): "
                    f"{check.description}\n{rows}{more}\nThe table was not changed (the previous "
                    f"one is kept).\nWhat to do: {remedy}"
                )

    return run


def _run(check: Check, con: duckdb.DuckDBPyConnection) -> AssetCheckResult:
    table = check.table
    if check.failing_rows_sql is not None:
        failing = query_frame(con, check.failing_rows_sql)
        frame = None
    elif not table_exists(con, table):
        return _result(check, False, {"problem": f"table {table} missing"})
    elif (rows := passed_contract(con, table, contract_sha256(table))) is not None:
        return _result(
            check,
            True,
            {
                "rows_checked": rows,
                "validated": "before the swap; the live table is that content (same digest) "
                "under this contract",
            },
        )
    else:
        frame = query_frame(con, f'SELECT * FROM "{table}"')
    if frame is None:
        meta: dict = {"failing_rows": failing.height}
        if failing.height:
            meta["examples"] = MetadataValue.md(markdown_table(failing, 20))
        return _result(check, failing.height == 0, meta)
    try:
        validate_table(table, frame)
    except ContractError as err:
        return _result(
            check,
            False,
            {
                "failures": len(err.failure_cases),
                "failure_cases": MetadataValue.md(markdown_table(err.failure_cases, 20)),
            },
        )
    return _result(check, True, {"rows_checked": frame.height})


def _result(check: Check, passed: bool, metadata: dict) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=check.asset, check_name=check.name, passed=passed, metadata=metadata
    )


def asset_checks(
    checks: Sequence[Check], one_step_for: Collection[str] = (), step_name: str = ""
) -> list[AssetChecksDefinition]:
    """One step per asset running that asset's checks (those selected, when run alone); the
    checks of the assets in `one_step_for` (built by one multi-asset) share the step
    `{step_name}__checks`."""
    by_step: dict[str, list[Check]] = {}
    for check in checks:
        step = step_name if check.asset in one_step_for else check.asset
        by_step.setdefault(step, []).append(check)
    return [_checks_step(step, group) for step, group in by_step.items()]


def _checks_step(step: str, checks: list[Check]) -> AssetChecksDefinition:
    assets = sorted({c.asset for c in checks})

    @multi_asset_check(
        name=f"{step}__checks",
        specs=[c.spec() for c in checks],
        can_subset=True,
        pool=POOL,
        description=f"The checks of {', '.join(assets)}, run in one step.",
    )
    def _step(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[AssetCheckResult]:
        selected = context.selected_asset_check_keys
        with warehouse.get_connection() as con:  # one connection for the step's checks
            results = [_run(check, con) for check in checks if check.key in selected]
        yield from results

    return _step
