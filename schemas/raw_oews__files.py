"""Contract of raw_oews__files: provenance of every OEWS source file read for a release."""

import pandera.polars as pa
import polars as pl


class RawOewsFiles(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    source_mode: str = pa.Field(isin=["embedded", "live", "local", "xlsx"])
    file_name: str
    url: str
    local_path: str = pa.Field(nullable=True)
    size_bytes: pl.Int64 = pa.Field(gt=0)
    sha256: str = pa.Field(str_matches=r"^[0-9a-f]{64}$")
    last_modified: str = pa.Field(nullable=True)
    etag: str = pa.Field(nullable=True)
    retrieved_at: str
    checked_at: str
    is_from_cache: bool
    is_parsed: bool

    class Config:
        strict = True
        unique = ["release_code", "file_name", "url"]
