"""Contract of int_qualify__skill_tiers: one skill tier per OEWS detailed occupation."""

import pandera.polars as pa
import polars as pl

from schemas.occupation_keys import OccupationKeys

TIERS = ["low", "middle", "high"]


class IntQualifySkillTiers(OccupationKeys):
    skill_tier: str = pa.Field(isin=TIERS)
    skill_tier_source: str = pa.Field(isin=["ep", "job_zone", "fallback"])
    skill_tier_reason: str = pa.Field(str_length={"min_value": 10})
    typical_education: str = pa.Field(nullable=True)
    work_experience: str = pa.Field(nullable=True)
    typical_ojt: str = pa.Field(nullable=True)
    ep_skill_tier: str = pa.Field(nullable=True, isin=TIERS)
    job_zone: pl.Int8 = pa.Field(nullable=True, ge=1, le=5)
    job_zone_skill_tier: str = pa.Field(nullable=True, isin=TIERS)
    fallback_skill_tier: str = pa.Field(isin=TIERS)
    fallback_group: str = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ["release_code", "occupation_code"]
