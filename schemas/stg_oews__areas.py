"""Contract of stg_oews__areas: OEWS areas (nation, states, metro and nonmetro areas)."""

import pandera.polars as pa


class StgOewsAreas(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    area_code: str = pa.Field(str_matches=r"^\d{7}$")
    area_name: str = pa.Field(str_length={"min_value": 1})
    areatype_code: str = pa.Field(isin=["N", "S", "M"])
    area_type: str = pa.Field(isin=["national", "state", "metropolitan", "nonmetropolitan"])
    state_code: str = pa.Field(str_matches=r"^\d{2}$")

    class Config:
        strict = True
        unique = ["release_code", "area_code"]
