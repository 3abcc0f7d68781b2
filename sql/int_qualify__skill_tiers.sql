-- int_qualify__skill_tiers: one row per OEWS detailed occupation with its skill tier from each
-- available signal and the tier the policy chose, with a reason a reviewer can read.
-- Signals: BLS Employment Projections typical entry education / experience / training (ep),
-- O*NET Job Zones rolled up to OEWS codes (job_zone), and the project's authored SOC-group rules
-- (fallback, always available). The policy's preferred source comes first, then the others in
-- the order ep -> job_zone -> fallback.
-- Policy tables (registered per run from pipelines/policy/qualification.yaml):
--   policy_ep_education(education, tier)  tier in high / middle / high_school
--   policy_ep_ojt(ojt), policy_ep_experience(experience), policy_job_zone(job_zone, tier)
-- $1 release code, $2 preferred source (ep | job_zone | fallback).
WITH occ AS (
  SELECT release_code, occupation_code, soc_code, occupation_name, major_code, minor_code,
         -- a broad code published as detailed is its own broad group
         CASE WHEN is_broad_as_detailed THEN soc_code ELSE broad_code END AS broad_code
  FROM stg_oews__occupations
  WHERE release_code = $1 AND is_detailed
), ep AS (
  SELECT
    e.soc_code,
    e.typical_education,
    e.work_experience,
    e.typical_ojt,
    format('BLS EP {}–{}', e.base_year, right(CAST(e.projection_year AS VARCHAR), 2)) AS ep_label,
    CASE
      WHEN p.tier IN ('high', 'middle') THEN p.tier
      WHEN p.tier = 'high_school'
       AND (e.typical_ojt IN (SELECT ojt FROM policy_ep_ojt)
            OR e.work_experience IN (SELECT experience FROM policy_ep_experience)) THEN 'middle'
      WHEN e.typical_education IS NOT NULL THEN 'low'
    END AS tier
  FROM stg_ep__occupations AS e
  LEFT JOIN policy_ep_education AS p ON p.education = e.typical_education
  WHERE e.occupation_type = 'Line item'
), jz AS (
  SELECT j.soc_code, j.job_zone, j.job_zone_rule, j.onet_release, p.tier
  FROM stg_onet__job_zones AS j
  JOIN policy_job_zone AS p USING (job_zone)
), fallback AS (
  SELECT
    occ.occupation_code,
    -- the most specific rule wins: one occupation's exception, then its broad, minor and
    -- major groups, then the default
    coalesce(o.tier, b.tier, mi.tier, ma.tier, d.tier) AS tier,
    coalesce(o.group_code, b.group_code, mi.group_code, ma.group_code) AS fallback_group,
    coalesce(o.group_level, b.group_level, mi.group_level, ma.group_level) AS fallback_level,
    coalesce(o.reason, b.reason, mi.reason, ma.reason, d.reason) AS fallback_reason
  FROM occ
  LEFT JOIN raw_policy__skill_fallback_rules AS o ON o.group_code = occ.soc_code
                                               AND o.group_level = 'detailed'
  LEFT JOIN raw_policy__skill_fallback_rules AS b ON b.group_code = occ.broad_code
                                               AND b.group_level = 'broad'
  LEFT JOIN raw_policy__skill_fallback_rules AS mi ON mi.group_code = occ.minor_code
  LEFT JOIN raw_policy__skill_fallback_rules AS ma ON ma.group_code = occ.major_code
  LEFT JOIN raw_policy__skill_fallback_rules AS d ON d.group_level = 'default'
), signals AS (
  SELECT
    occ.release_code,
    occ.occupation_code,
    occ.soc_code,
    occ.occupation_name,
    ep.typical_education,
    ep.work_experience,
    ep.typical_ojt,
    ep.tier AS ep_skill_tier,
    ep.ep_label,
    jz.job_zone,
    jz.job_zone_rule,
    jz.onet_release,
    jz.tier AS job_zone_skill_tier,
    fallback.tier AS fallback_skill_tier,
    fallback.fallback_group,
    fallback.fallback_level,
    fallback.fallback_reason,
    CASE
      WHEN $2 = 'ep' AND ep.tier IS NOT NULL THEN 'ep'
      WHEN $2 = 'job_zone' AND jz.tier IS NOT NULL THEN 'job_zone'
      WHEN $2 = 'fallback' THEN 'fallback'
      WHEN ep.tier IS NOT NULL THEN 'ep'
      WHEN jz.tier IS NOT NULL THEN 'job_zone'
      ELSE 'fallback'
    END AS skill_tier_source
  FROM occ
  LEFT JOIN ep ON ep.soc_code = occ.soc_code
  LEFT JOIN jz ON jz.soc_code = occ.soc_code
  LEFT JOIN fallback USING (occupation_code)
)
SELECT
  release_code,
  occupation_code,
  soc_code,
  occupation_name,
  CASE skill_tier_source
    WHEN 'ep' THEN ep_skill_tier
    WHEN 'job_zone' THEN job_zone_skill_tier
    ELSE fallback_skill_tier
  END AS skill_tier,
  skill_tier_source,
  CASE skill_tier_source
    WHEN 'ep' THEN format(
      '{} skill ({}): typical entry education ''{}'', work experience ''{}'', '
      || 'on-the-job training ''{}''',
      ep_skill_tier, ep_label, typical_education, work_experience, typical_ojt)
    WHEN 'job_zone' THEN format(
      '{} skill (O*NET {} Job Zone {}; {})', job_zone_skill_tier,
      coalesce(onet_release, '(release not recorded)'), job_zone, job_zone_rule)
    ELSE format(
      '{} skill (built-in rule{}: {})', fallback_skill_tier,
      CASE WHEN fallback_group IS NULL THEN ''
           WHEN fallback_level = 'detailed' THEN ' for SOC occupation ' || fallback_group
           ELSE ' for SOC group ' || fallback_group END,
      fallback_reason)
  END AS skill_tier_reason,
  typical_education,
  work_experience,
  typical_ojt,
  ep_skill_tier,
  job_zone,
  job_zone_skill_tier,
  fallback_skill_tier,
  fallback_group
FROM signals
