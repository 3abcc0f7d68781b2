"""The checks of the cluster assignment (out_clusters__occupation_cluster): the two a reviewer
decision can break, run inside the assignment's swap as well (a refused decision leaves the
previous assignment in place), and one warning."""

from pipelines.checks import sql_check

OCCUPATION_CLUSTER = "out_clusters__occupation_cluster"

# Blocking checks a reviewer decision can break: run before the swap too (see before_swap).
QUALIFYING_HAVE_A_CLUSTER = sql_check(
    OCCUPATION_CLUSTER,
    "every_qualifying_occupation_has_a_cluster",
    "Every occupation that qualifies nationally sits in at least one Career Cluster (in the "
    "releases assigned to clusters: the newest; earlier ones are screened for comparison).",
    f"""
    SELECT q.release_code, q.soc_code, q.occupation_name
    FROM out_qualify__occupation_qualification q
    WHERE q.area_type = 'national' AND q.status = 'qualifies'
      AND q.release_code IN (SELECT DISTINCT release_code FROM {OCCUPATION_CLUSTER})
      AND NOT EXISTS (
      SELECT 1 FROM {OCCUPATION_CLUSTER} o
      WHERE o.release_code = q.release_code AND o.occupation_code = q.occupation_code)
    """,
    remedy=(
        "if a reviewer decision removed the only cluster of an occupation that qualifies, move "
        "it to another cluster instead (decision 'move') or drop that line from the "
        "reviewer-decisions file (CCP_REVIEW_DECISIONS_PATH), and run again; with no such "
        "decision, the cluster rules leave it out (pipelines/policy/cluster_rules.yaml): "
        "report it"
    ),
)

SUB_CLUSTERS_AND_ONE_PRIMARY = sql_check(
    OCCUPATION_CLUSTER,
    "sub_clusters_exist_in_framework",
    "Every assignment names a sub-cluster that exists in the framework definition, and "
    "every occupation has exactly one primary cluster.",
    f"""
    SELECT o.release_code, o.soc_code, o.cluster_code, o.sub_cluster_code,
           'unknown sub-cluster' AS problem
    FROM {OCCUPATION_CLUSTER} o
    LEFT JOIN raw_framework__sub_clusters s USING (cluster_code, sub_cluster_code)
    WHERE s.sub_cluster_code IS NULL
    UNION ALL
    SELECT release_code, soc_code, NULL, NULL, 'primary clusters: ' || count_if(is_primary)
    FROM {OCCUPATION_CLUSTER} GROUP BY release_code, soc_code HAVING count_if(is_primary) <> 1
    """,
    remedy=(
        "check the reviewer-decisions file (CCP_REVIEW_DECISIONS_PATH): a decision may name a "
        "sub-cluster of another cluster; otherwise report this with the message above"
    ),
)

EVERY_CLUSTER_HAS_A_QUALIFYING_OCCUPATION = sql_check(
    OCCUPATION_CLUSTER,
    "every_cluster_has_a_qualifying_occupation",
    "Every one of the framework's clusters has at least one qualifying occupation. A "
    "warning, not a stop: a strict policy can leave a cluster empty, and its report then "
    "says so.",
    f"""
    SELECT c.cluster_code, c.cluster_name
    FROM raw_framework__clusters c
    WHERE NOT EXISTS (SELECT 1 FROM {OCCUPATION_CLUSTER} o
                      WHERE o.cluster_code = c.cluster_code AND o.status = 'qualifies')
    """,
    blocking=False,
)
