"""Contract of int_clusters__title_sub_clusters: per occupation and cluster, the sub-cluster
its title keywords name (how a placement by industry evidence alone gets a sub-cluster)."""

import pandera.polars as pa

from schemas.int_clusters__rule_matches import CLUSTER_CODE, SUB_CLUSTER_CODE


class IntClustersTitleSubClusters(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    occupation_code: str = pa.Field(str_matches=r"^\d{6}$")
    cluster_code: str = pa.Field(str_matches=CLUSTER_CODE)
    sub_cluster_code: str = pa.Field(str_matches=SUB_CLUSTER_CODE)
    sub_cluster_method: str = pa.Field(str_startswith="title keyword ")

    class Config:
        strict = True
        unique = ["release_code", "occupation_code", "cluster_code"]
