"""Contract of int_clusters__rule_matches: the rule (at most one per cluster) that places an
occupation in a cluster and sub-cluster. A weight-0 exception places nothing, so it has no row."""

import pandera.polars as pa
import polars as pl

CLUSTER_CODE = r"^[a-z]+(-[a-z]+)*$"
SUB_CLUSTER_CODE = r"^[a-z]+(-[a-z]+)*/[a-z]+(-[a-z]+)*$"


class IntClustersRuleMatches(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    occupation_code: str = pa.Field(str_matches=r"^\d{6}$")
    soc_code: str = pa.Field(str_matches=r"^\d{2}-\d{4}$")
    cluster_code: str = pa.Field(str_matches=CLUSTER_CODE)
    sub_cluster_code: str = pa.Field(str_matches=SUB_CLUSTER_CODE)
    weight: pl.Float64 = pa.Field(gt=0, le=1)
    rule_group: str
    rule_reason: str = pa.Field(str_length={"min_value": 5})
    sub_cluster_method: str
    needs_industry_evidence: bool

    class Config:
        strict = True
        unique = ["release_code", "occupation_code", "cluster_code"]
