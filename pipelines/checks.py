"""Asset checks: each table's pandera contract, and SQL checks that return failing rows.

Contracts are also enforced inside the assets before a table is swapped in (so bad rows never
land); the checks show the result in the UI and guard tables written by older code.

The checks of one asset run in one step (`multi_asset_check`): each check is still its own
named, blocking check in the UI, but a run pays Dagster's per-step cost (about 0.1 s with the
SQLite instance) once per asset instead of once per check.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

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

from pipelines.metadata import markdown_table
from pipelines.warehouse import WarehouseResource, query_frame, table_exists
from schemas import CONTRACTS, ContractError, validate_table

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


def contract_check(table: str) -> Check:
    """A blocking check that validates `table` against its pandera model."""
    model = CONTRACTS[table]
    return Check(
        asset=table,
        name=f"{table}__contract",
        description=f"Every row satisfies the contract in schemas/{table}.py ({model.__name__}).",
    )


def sql_check(
    asset: str,
    name: str,
    description: str,
    failing_rows_sql: str,
    *,
    blocking: bool = True,
    deps: list[str] | None = None,
) -> Check:
    """A check that passes when `failing_rows_sql` returns no rows; shows up to 20 of them."""
    return Check(asset, name, description, failing_rows_sql, blocking, tuple(deps or ()))


def _run(check: Check, warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.get_connection() as con:
        if check.failing_rows_sql is not None:
            failing = query_frame(con, check.failing_rows_sql)
            frame = None
        elif not table_exists(con, check.asset):
            return _result(check, False, {"problem": "table missing"})
        else:
            frame = query_frame(con, f'SELECT * FROM "{check.asset}"')
    if frame is None:
        meta: dict = {"failing_rows": failing.height}
        if failing.height:
            meta["examples"] = MetadataValue.md(markdown_table(failing, 20))
        return _result(check, failing.height == 0, meta)
    try:
        validate_table(check.asset, frame)
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


def asset_checks(checks: Sequence[Check]) -> list[AssetChecksDefinition]:
    """One step per asset running that asset's checks (those selected, when run alone)."""
    by_asset: dict[str, list[Check]] = {}
    for check in checks:
        by_asset.setdefault(check.asset, []).append(check)
    return [_asset_step(asset, group) for asset, group in by_asset.items()]


def _asset_step(asset: str, checks: list[Check]) -> AssetChecksDefinition:
    @multi_asset_check(
        name=f"{asset}__checks",
        specs=[c.spec() for c in checks],
        can_subset=True,
        pool=POOL,
        description=f"The checks of {asset}, run in one step.",
    )
    def _step(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[AssetCheckResult]:
        selected = context.selected_asset_check_keys
        for check in checks:
            if check.key in selected:
                yield _run(check, warehouse)

    return _step
