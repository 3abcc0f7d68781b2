-- int_clusters__rule_assignment: the explainable, always-computed assignment of every OEWS
-- detailed occupation to Career Clusters and Sub-Clusters. Two kinds of evidence:
--   * the project's rules (int_clusters__rule_matches, from pipelines/policy/cluster_rules.yaml):
--     SOC-group rules with title keywords, several clusters possible;
--   * industry evidence (int_clusters__industry_evidence): the share of the occupation's
--     employment in each cluster's NAICS sectors. An occupation that no rule places, or whose
--     rule says industry should decide, also joins the non-cross-cutting cluster whose sectors
--     employ the largest share of it (at least $2). Having no rule there, it takes the
--     sub-cluster the cluster's title keywords name (int_clusters__title_sub_clusters), else
--     the one the rule file aligns (raw_policy__sub_cluster_industries) with the 3-digit
--     subsector, or within it the 4-digit group, that employs most of it in the cluster's
--     sectors, if decisive (see int_clusters__industry_evidence), else the cluster's default.
-- Score = rule weight + industry share; the highest score is the primary cluster.
-- $1 release code, $2 minimum industry share for an industry-only assignment.
WITH occ AS (
  SELECT occupation_code, soc_code, occupation_name
  FROM stg_oews__occupations WHERE release_code = $1 AND is_detailed
), rules AS (
  SELECT * FROM int_clusters__rule_matches WHERE release_code = $1
), ev AS (
  SELECT * FROM int_clusters__industry_evidence WHERE release_code = $1
), wants_industry AS (
  SELECT occ.occupation_code
  FROM occ LEFT JOIN rules USING (occupation_code)
  GROUP BY occ.occupation_code
  HAVING count(rules.cluster_code) = 0 OR bool_or(rules.needs_industry_evidence)
), industry_pick AS (
  SELECT ev.*, row_number() OVER (
      PARTITION BY ev.occupation_code ORDER BY ev.industry_share DESC, ev.cluster_code) AS rank
  FROM ev
  JOIN raw_framework__clusters AS c USING (cluster_code)
  WHERE NOT c.is_cross_cutting AND ev.industry_share >= $2
), industry_rows AS (
  SELECT p.occupation_code, p.cluster_code,
         coalesce(k.sub_cluster_code, a3.sub_cluster_code, a4.sub_cluster_code,
                  d.sub_cluster_code) AS sub_cluster_code,
         CASE WHEN k.sub_cluster_code IS NOT NULL THEN k.sub_cluster_method
              WHEN a3.sub_cluster_code IS NOT NULL
              THEN format('industry: NAICS {} {}', p.top_subsector_code, p.top_subsector_name)
              WHEN a4.sub_cluster_code IS NOT NULL
              THEN format('industry: NAICS {} {}', p.top_industry_group_code,
                          p.top_industry_group_name)
              WHEN p.is_top_subsector_decisive
              THEN format('default (most of its jobs there are in NAICS {} {}, which the rule '
                          'file aligns with no sub-cluster)',
                          CASE WHEN p.is_top_industry_group_decisive
                               THEN p.top_industry_group_code ELSE p.top_subsector_code END,
                          CASE WHEN p.is_top_industry_group_decisive
                               THEN p.top_industry_group_name ELSE p.top_subsector_name END)
              ELSE 'default' END AS sub_cluster_method
  FROM industry_pick AS p
  JOIN wants_industry USING (occupation_code)
  JOIN raw_policy__cluster_default_sub_clusters AS d USING (cluster_code)
  LEFT JOIN int_clusters__title_sub_clusters AS k
    ON k.release_code = $1 AND k.occupation_code = p.occupation_code
   AND k.cluster_code = p.cluster_code
  LEFT JOIN raw_policy__sub_cluster_industries AS a3
    ON a3.cluster_code = p.cluster_code AND a3.naics_code = p.top_subsector_code
   AND p.is_top_subsector_decisive
  LEFT JOIN raw_policy__sub_cluster_industries AS a4
    ON a4.cluster_code = p.cluster_code AND a4.naics_code = p.top_industry_group_code
   AND p.is_top_industry_group_decisive
  WHERE p.rank = 1 AND NOT EXISTS (
    SELECT 1 FROM rules AS r
    WHERE r.occupation_code = p.occupation_code AND r.cluster_code = p.cluster_code)
), candidates AS (
  SELECT occupation_code, cluster_code, sub_cluster_code, weight, rule_group, rule_reason,
         sub_cluster_method, 'rule' AS method
  FROM rules
  UNION ALL
  SELECT occupation_code, cluster_code, sub_cluster_code, 0.0, NULL, NULL, sub_cluster_method,
         'industry'
  FROM industry_rows
), scored AS (
  SELECT
    c.*,
    ev.industry_share,
    ev.top_industry_name,
    ev.counted_sectors,
    c.weight + coalesce(ev.industry_share, 0) AS score
  FROM candidates AS c
  LEFT JOIN ev USING (occupation_code, cluster_code)
)
SELECT
  $1 AS release_code,
  occ.occupation_code,
  occ.soc_code,
  occ.occupation_name,
  s.cluster_code,
  s.sub_cluster_code,
  s.method,
  s.score,
  s.industry_share,
  row_number() OVER (
    PARTITION BY s.occupation_code, s.cluster_code ORDER BY s.sub_cluster_code) = 1
  AND dense_rank() OVER (
    PARTITION BY s.occupation_code ORDER BY s.score DESC, s.cluster_code) = 1 AS is_primary,
  concat_ws('; ',
    CASE WHEN s.industry_share IS NOT NULL THEN format(
      '{:.0f}% of employment in {} sectors ({}){}', 100 * s.industry_share, f.cluster_name,
      s.counted_sectors,
      CASE WHEN s.top_industry_name IS NOT NULL AND s.industry_share > 0
           THEN ', mostly ' || s.top_industry_name ELSE '' END) END,
    CASE WHEN s.method = 'rule'
         THEN format('rule SOC {}: {}', s.rule_group, rtrim(s.rule_reason, '.'))
         ELSE 'no rule places it here: assigned by industry evidence' END,
    CASE WHEN s.sub_cluster_method <> 'rule' THEN 'sub-cluster by ' || s.sub_cluster_method END
  ) AS evidence
FROM scored AS s
JOIN occ USING (occupation_code)
JOIN raw_framework__clusters AS f USING (cluster_code)
