"""The columns every per-release occupation table starts with, shared by their contracts."""

import pandera.polars as pa


class OccupationKeys(pa.DataFrameModel):
    """A release's OEWS occupation: its code as OEWS writes it, its SOC code and its title."""

    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    occupation_code: str = pa.Field(str_matches=r"^\d{6}$")
    soc_code: str = pa.Field(str_matches=r"^\d{2}-\d{4}$")
    occupation_name: str
