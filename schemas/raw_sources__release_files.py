"""Contract of raw_sources__release_files: per release, the file of each non-OEWS source (EP,
O*NET, the crosswalk) that a table of the release was built with, copied from
stg_sources__files in the transaction that swapped that table's rows in."""

import pandera.polars as pa
import polars as pl


class RawSourcesReleaseFiles(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    read_by: str = pa.Field(
        isin=[
            "int_qualify__skill_tiers",
            "out_clusters__occupation_cluster",
            "out_profiles__cluster_occupations",
            "out_profiles__cluster_summary",
        ]
    )
    source: str = pa.Field(isin=["ep", "onet", "crosswalk"])
    file_name: str = pa.Field(nullable=True, str_length={"min_value": 1})
    url: str = pa.Field(nullable=True, str_length={"min_value": 1})
    size_bytes: pl.Int64 = pa.Field(nullable=True, ge=0)
    sha256: str = pa.Field(nullable=True, str_matches=r"^[0-9a-f]{64}$")
    last_modified: str = pa.Field(nullable=True)
    etag: str = pa.Field(nullable=True)
    retrieved_at: str = pa.Field(nullable=True)
    is_used: bool
    note: str = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True
        unique = ["release_code", "read_by", "source"]
