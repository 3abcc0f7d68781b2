"""Contract of out_clusters__review_decisions: per release, the reviewer decisions its cluster
assignment applied (swapped in with out_clusters__occupation_cluster, or not at all)."""

import pandera.polars as pa

from schemas.raw_review__decisions import RawReviewDecisions


class OutClustersReviewDecisions(RawReviewDecisions):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")

    class Config:
        strict = True
        unique = ["release_code", "source_file", "line"]
