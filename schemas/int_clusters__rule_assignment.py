"""Contract of int_clusters__rule_assignment: the rule layer, occupation x cluster, with one
primary cluster per occupation and the evidence for every row."""

import pandera.polars as pa
import polars as pl

from schemas.int_clusters__rule_matches import CLUSTER_CODE, SUB_CLUSTER_CODE
from schemas.occupation_keys import OccupationKeys


class IntClustersRuleAssignment(OccupationKeys):
    cluster_code: str = pa.Field(str_matches=CLUSTER_CODE)
    sub_cluster_code: str = pa.Field(str_matches=SUB_CLUSTER_CODE)
    method: str = pa.Field(isin=["rule", "industry"])
    # a rule's weight (0-1) plus the industry share (0-1); industry evidence alone, its share
    score: pl.Float64 = pa.Field(gt=0, le=2.0001)
    industry_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1.0001)
    is_primary: bool
    evidence: str = pa.Field(str_length={"min_value": 5})

    class Config:
        strict = True
        unique = ["release_code", "occupation_code", "cluster_code"]
