"""Contract of out_clusters__occupation_cluster: occupation x cluster x sub-cluster."""

import pandera.polars as pa
import polars as pl

from schemas.occupation_keys import OccupationKeys


class OutClustersOccupationCluster(OccupationKeys):
    cluster_code: str
    cluster_name: str
    sub_cluster_code: str
    sub_cluster_name: str
    is_primary: bool
    layer: str = pa.Field(isin=["official", "rules", "reviewer"])
    # the rule layer's, the crosswalk's, or the reviewer decision applied
    method: str = pa.Field(isin=["rule", "industry", "crosswalk", "add", "move"])
    evidence: str = pa.Field(str_length={"min_value": 5})
    industry_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1.0001)
    employment_count: pl.Int64 = pa.Field(nullable=True, ge=0)
    skill_tier: str = pa.Field(isin=["low", "middle", "high"])
    status: str = pa.Field(isin=["qualifies", "excluded", "undetermined"])
    qualification_reason: str

    class Config:
        strict = True
        unique = ["release_code", "occupation_code", "cluster_code", "sub_cluster_code"]
