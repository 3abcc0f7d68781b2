-- out_clusters__occupation_cluster: every OEWS detailed occupation x Career Cluster x
-- Sub-Cluster of the release, from the assignment layers the asset resolved in Python
-- (_occupation_cluster_layers: official crosswalk, else rules, then reviewer decisions), with
-- the framework's names and the occupation's national qualification. The layers hold the one
-- release being built; a row without a release or occupation fails the contract.
SELECT l.release_code, l.occupation_code, l.soc_code, l.occupation_name,
       l.cluster_code, c.cluster_name, l.sub_cluster_code, s.sub_cluster_name,
       l.is_primary, l.layer, l.method, l.evidence, l.industry_share,
       q.employment_count, q.skill_tier, q.status, q.reason AS qualification_reason
FROM _occupation_cluster_layers l
LEFT JOIN raw_framework__clusters c USING (cluster_code)
LEFT JOIN raw_framework__sub_clusters s USING (cluster_code, sub_cluster_code)
LEFT JOIN out_qualify__occupation_qualification q
  ON q.release_code = l.release_code AND q.occupation_code = l.occupation_code
 AND q.area_type = 'national'
