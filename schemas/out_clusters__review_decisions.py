"""Contract of out_clusters__review_decisions: per release, the reviewer decisions its cluster
assignment applied (swapped in with out_clusters__occupation_cluster, or not at all)."""

import pandera.polars as pa

from schemas.raw_review__decisions import RawReviewDecisions


class OutClustersReviewDecisions(RawReviewDecisions):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    # NULL when applied from a raw_review__decisions an earlier version read (one file, no
    # file name recorded), until the decisions are read again
    source_file: str = pa.Field(nullable=True, str_length={"min_value": 1})

    class Config:
        strict = True
        unique = ["release_code", "source_file", "line"]
