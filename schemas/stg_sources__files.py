"""Contract of stg_sources__files: the file of each non-OEWS source the release tables read
(EP, O*NET, the crosswalk) that the warehouse holds, recorded when staging accepted its rows."""

import pandera.polars as pa
import polars as pl


class StgSourcesFiles(pa.DataFrameModel):
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
        unique = ["source"]
