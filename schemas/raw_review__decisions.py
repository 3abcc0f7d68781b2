"""Contract of raw_review__decisions: the IAG reviewer decisions read from the decisions file,
one row per decision line, names resolved to framework codes."""

import pandera.polars as pa
import polars as pl

from schemas.int_clusters__rule_matches import CLUSTER_CODE, SUB_CLUSTER_CODE


class RawReviewDecisions(pa.DataFrameModel):
    source_file: str = pa.Field(str_length={"min_value": 1})
    line: pl.Int32 = pa.Field(
        ge=2
    )  # the line of a CSV file, the row of a workbook: 1 is the header
    soc_code: str = pa.Field(str_matches=r"^\d{2}-\d{4}$")
    decision: str = pa.Field(isin=["add", "remove", "move"])
    cluster_code: str = pa.Field(str_matches=CLUSTER_CODE)
    sub_cluster_code: str = pa.Field(nullable=True, str_matches=SUB_CLUSTER_CODE)
    to_cluster_code: str = pa.Field(nullable=True, str_matches=CLUSTER_CODE)
    to_sub_cluster_code: str = pa.Field(nullable=True, str_matches=SUB_CLUSTER_CODE)
    reviewer: str = pa.Field(str_length={"min_value": 1})
    decided_on: str = pa.Field(str_matches=r"^\d{4}-\d{2}-\d{2}$")
    rationale: str = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True
        unique = ["source_file", "line"]
