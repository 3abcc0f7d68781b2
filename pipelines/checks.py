"""Asset-check builders: each table's pandera contract, and SQL checks that return failing rows.

Contracts are also enforced inside the assets before a table is swapped in (so bad rows never
land); the checks show the result in the UI and guard tables written by older code.
"""

from dagster import AssetCheckResult, AssetChecksDefinition, MetadataValue, asset_check

from pipelines.metadata import markdown_table
from pipelines.warehouse import WarehouseResource, query_frame, table_exists
from schemas import CONTRACTS, ContractError, validate_table

POOL = "duckdb"


def contract_check(table: str) -> AssetChecksDefinition:
    """A blocking check that validates `table` against its pandera model."""
    model = CONTRACTS[table]

    @asset_check(
        asset=table,
        name=f"{table}__contract",
        blocking=True,
        pool=POOL,
        description=f"Every row satisfies the contract in schemas/{table}.py ({model.__name__}).",
    )
    def _check(warehouse: WarehouseResource) -> AssetCheckResult:
        with warehouse.get_connection() as con:
            if not table_exists(con, table):
                return AssetCheckResult(passed=False, metadata={"problem": "table missing"})
            frame = query_frame(con, f'SELECT * FROM "{table}"')
        try:
            validate_table(table, frame)
        except ContractError as err:
            return AssetCheckResult(
                passed=False,
                metadata={
                    "failures": len(err.failure_cases),
                    "failure_cases": MetadataValue.md(markdown_table(err.failure_cases, 20)),
                },
            )
        return AssetCheckResult(passed=True, metadata={"rows_checked": frame.height})

    return _check


def sql_check(
    asset: str,
    name: str,
    description: str,
    failing_rows_sql: str,
    *,
    blocking: bool = True,
    deps: list[str] | None = None,
) -> AssetChecksDefinition:
    """A check that passes when `failing_rows_sql` returns no rows; shows up to 20 of them."""

    @asset_check(
        asset=asset,
        name=name,
        blocking=blocking,
        pool=POOL,
        description=description,
        additional_deps=deps or [],
    )
    def _check(warehouse: WarehouseResource) -> AssetCheckResult:
        with warehouse.get_connection() as con:
            failing = query_frame(con, failing_rows_sql)
        meta: dict = {"failing_rows": failing.height}
        if failing.height:
            meta["examples"] = MetadataValue.md(markdown_table(failing, 20))
        return AssetCheckResult(passed=failing.height == 0, metadata=meta)

    return _check
