"""Contract of raw_sources__release_files: per release, the file of each non-OEWS source (EP,
O*NET, the crosswalk) that a table of the release was built with, copied from
stg_sources__files in the transaction that swapped that table's rows in."""

import pandera.polars as pa

from schemas.stg_sources__files import StgSourcesFiles


class RawSourcesReleaseFiles(StgSourcesFiles):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    read_by: str = pa.Field(
        isin=[
            "int_qualify__skill_tiers",
            "out_clusters__occupation_cluster",
            "out_profiles__cluster_occupations",
            "out_profiles__cluster_summary",
        ]
    )

    class Config:
        strict = True
        unique = ["release_code", "read_by", "source"]
