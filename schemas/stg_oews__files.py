"""Contract of stg_oews__files: the OEWS files behind a release's estimates (same columns as
raw_oews__files, whose every fetch it copies once staging has accepted the data)."""

from schemas.raw_oews__files import RawOewsFiles


class StgOewsFiles(RawOewsFiles):
    class Config:
        strict = True
        unique = ["release_code", "file_name", "url"]
