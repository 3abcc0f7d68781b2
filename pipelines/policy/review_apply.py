"""Applying the IAG reviewer decisions (read and validated by pipelines.policy.reviews) to the
cluster assignment, after every other layer, in file order."""

from __future__ import annotations

import polars as pl

from pipelines.policy.reviews import place


def apply_decisions(assignments: pl.DataFrame, decisions: pl.DataFrame) -> pl.DataFrame:
    """Apply decisions in file order to (soc_code, cluster_code, sub_cluster_code, ...) rows.

    Removed rows disappear; added and moved rows get layer 'reviewer' and the decision's text as
    evidence. A moved primary row stays primary; if no primary is left, the best score wins."""
    rows = assignments.to_dicts()
    template = dict.fromkeys(assignments.columns)
    for d in decisions.iter_rows(named=True):
        note = (
            f"reviewer {d['reviewer']} ({d['decided_on']}, "
            f"{d['source_file'] or 'decisions file'} {place(d['source_file'] or '', d['line'])}): "
            f"{d['rationale']}"
        )

        def matches(r: dict, d: dict = d) -> bool:
            return (
                r["soc_code"] == d["soc_code"]
                and r["cluster_code"] == d["cluster_code"]
                and (
                    d["sub_cluster_code"] is None or r["sub_cluster_code"] == d["sub_cluster_code"]
                )
            )

        removed = [r for r in rows if matches(r)]
        if d["decision"] in ("remove", "move"):
            rows = [r for r in rows if not matches(r)]
        if d["decision"] in ("add", "move"):
            cluster = d["to_cluster_code"] if d["decision"] == "move" else d["cluster_code"]
            sub = d["to_sub_cluster_code"] if d["decision"] == "move" else d["sub_cluster_code"]
            base = dict(removed[0]) if removed else dict(template)
            base.update(
                soc_code=d["soc_code"],
                cluster_code=cluster,
                sub_cluster_code=sub,
                layer="reviewer",
                method=d["decision"],
                evidence=note,
                score=base.get("score"),
                is_primary=bool(removed and any(r["is_primary"] for r in removed)),
            )
            if not removed:
                same = next((r for r in rows if r["soc_code"] == d["soc_code"]), None)
                for key in ("occupation_code", "occupation_name", "release_code"):
                    if same and key in base:
                        base[key] = same[key]
            rows = [
                r
                for r in rows
                if not (
                    r["soc_code"] == d["soc_code"]
                    and r["cluster_code"] == cluster
                    and r["sub_cluster_code"] == sub
                )
            ]
            rows.append(base)
    result = pl.DataFrame(rows, schema=assignments.schema) if rows else assignments.clear()
    return ensure_one_primary(result)


def ensure_one_primary(frame: pl.DataFrame) -> pl.DataFrame:
    """Keep the primary flags; an occupation left without one gets its best-scoring row."""
    frame = frame.with_columns(pl.col("is_primary").fill_null(False))
    # ties broken by cluster and sub-cluster code: the same inputs always give the same primary
    ordered = frame.sort(
        ["soc_code", "score", "cluster_code", "sub_cluster_code"],
        descending=[False, True, False, False],
        nulls_last=True,
    )
    return ordered.with_columns(
        pl.when(pl.col("is_primary").any().over("soc_code"))
        .then(pl.col("is_primary"))
        .otherwise(pl.int_range(pl.len()).over("soc_code") == 0)
        .alias("is_primary")
    ).sort("soc_code", "cluster_code", "sub_cluster_code")
