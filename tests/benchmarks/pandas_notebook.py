"""The comparison for the full refresh: what an analyst would otherwise write, in plain pandas.

    python -m tests.benchmarks.pandas_notebook --data DIR --out DIR

One straightforward script from BLS's flat files to 14 Plotly pages, written the way a notebook
would do it (read everything as text, strip, cast, pivot, filter, merge, group, `fig.to_html`),
using the same published inputs and the project's own rule files (skill tiers, living wage,
cluster rules, framework) so that it does the same job as the pipeline:

1. read `oe.data.0.Current` with `pandas.read_csv`, strip the padding, cast the values, split the
   series ids and pivot the 17 datatypes into columns;
2. screen the national detailed occupations: skill tier from the SOC-group rules, median wage
   (hourly, or annual / 2,080 for annual-only occupations) against the living wage;
3. assign clusters and sub-clusters with the cluster rules (most specific group per cluster,
   title keywords, weight-0 exceptions, `by_industry` occupations to the sector that employs
   most of them);
4. aggregate per cluster: employment and wages, sub-clusters, industries, states;
5. render one HTML page per cluster with four Plotly charts and an occupation table.

It is not the pipeline's method in every detail (no contracts, provenance, footnotes, state
screens, crosswalk or reviewer layers); it is the honest minimum a user would compare with.
"""

from __future__ import annotations

import argparse
import html
import time
from pathlib import Path

import pandas as pd
import plotly.express as px
import yaml

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "pipelines" / "policy"
FRAMEWORK = REPO / "pipelines" / "framework" / "framework_2024.yaml"
MEASURES = {
    "01": "employment",
    "08": "hourly_median",
    "13": "annual_median",
    "07": "hourly_p25",
    "09": "hourly_p75",
}
SPECIAL_MINORS = {"15-1200", "31-1100", "51-5100"}


def read_flat(path: Path, **kwargs: object) -> pd.DataFrame:
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, **kwargs)
    frame.columns = frame.columns.str.strip()
    for col in frame.columns:
        frame[col] = frame[col].str.strip()
    return frame


def load_estimates(data_dir: Path) -> pd.DataFrame:
    data = read_flat(data_dir / "oe.data.0.Current")
    data["value"] = pd.to_numeric(data["value"].replace("-", None), errors="coerce")
    sid = data["series_id"]
    data["area"] = sid.str[4:11]
    data["industry"] = sid.str[11:17]
    data["occupation"] = sid.str[17:23]
    data["datatype"] = sid.str[23:25]
    wide = data.pivot(
        index=["area", "industry", "occupation"], columns="datatype", values="value"
    ).reset_index()
    return wide.rename(columns=MEASURES)


def soc_groups(occ: str) -> list[str]:
    """The SOC groups containing an OEWS occupation code, most specific first."""
    soc = f"{occ[:2]}-{occ[2:]}"
    minor = soc[:5] + "00" if soc[:5] + "00" in SPECIAL_MINORS else soc[:4] + "000"
    return [soc, soc[:6] + "0", minor, soc[:2] + "-0000"]


def skill_tier(occ: str, rules: dict[str, str], default: str) -> str:
    return next((rules[g] for g in soc_groups(occ) if g in rules), default)


def short_title(title: str) -> str:
    return title.lower().split(", except")[0]


def assign(occupations: pd.DataFrame, cluster_rules: dict, sector_share: pd.DataFrame) -> list:
    """(occupation, cluster, sub_cluster, weight) rows, most specific rule per cluster."""
    keywords = cluster_rules.get("sub_cluster_keywords", {})
    defaults = cluster_rules["default_sub_clusters"]
    rows = []
    for occ, title in zip(occupations["occupation"], occupations["occupation_name"], strict=True):
        groups = soc_groups(occ)
        best: dict[str, tuple] = {}
        for order, rule in enumerate(cluster_rules["rules"]):
            group = rule["group"]
            if group != "*" and group not in groups:
                continue
            words = rule.get("title_keywords") or []
            if words and not any(w in short_title(title) for w in words):
                continue
            # broad > minor > major > "*"; then a rule with keywords; then the earlier rule
            specificity = 0 if group == "*" else len(groups) - groups.index(group)
            key = (specificity, bool(words), -order)
            if rule["cluster"] not in best or key > best[rule["cluster"]][0]:
                best[rule["cluster"]] = (key, rule)
        for cluster, (_, rule) in best.items():
            if rule["weight"] == 0:
                continue
            sub = rule.get("sub_cluster") or next(
                (
                    e["sub_cluster"]
                    for e in keywords.get(cluster, [])
                    if any(w in short_title(title) for w in e["keywords"])
                ),
                defaults[cluster],
            )
            rows.append((occ, cluster, sub, rule["weight"]))
            if rule.get("by_industry") and occ in sector_share.index:
                home = sector_share.loc[occ]
                rows.append((occ, home, defaults[home], 0.7))
    return rows


def page(cluster: str, figures: list, table: pd.DataFrame, summary: str) -> str:
    parts = [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, fig in enumerate(figures)
    ]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(cluster)}</title>"
        f"</head><body><h1>{html.escape(cluster)}</h1><p>{html.escape(summary)}</p>"
        + "".join(parts)
        + table.to_html(index=False)
        + "</body></html>"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.pandas_notebook")
    parser.add_argument("--data", type=Path, required=True, help="folder with the oe.* files")
    parser.add_argument("--out", type=Path, required=True, help="folder for the 14 pages")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    wide = load_estimates(args.data)
    occupations = read_flat(args.data / "oe.occupation")
    areas = read_flat(args.data / "oe.area")
    industries = read_flat(args.data / "oe.industry")

    # 2. screen the national detailed occupations
    fallback = yaml.safe_load((POLICY / "skill_fallback.yaml").read_text())
    tier_rules = {r["group"]: r["tier"] for r in fallback["rules"]}
    policy = yaml.safe_load((POLICY / "qualification.yaml").read_text())
    threshold = float(policy["living_wage"]["hourly_usd"])
    detailed = occupations[occupations["display_level"] == "3"]
    national = wide[(wide["area"] == "0000000") & (wide["industry"] == "000000")]
    nat = detailed.merge(national, left_on="occupation_code", right_on="occupation")
    nat["skill_tier"] = [
        skill_tier(o, tier_rules, fallback["default"]["tier"]) for o in nat["occupation"]
    ]
    nat["wage_hourly"] = nat["hourly_median"].fillna(nat["annual_median"] / 2080)
    nat["qualifies"] = nat["skill_tier"].isin(["middle", "high"]) & (
        nat["wage_hourly"] >= threshold
    )
    qualifying = nat[nat["qualifies"]]

    # 3. clusters: the sector employing most of each occupation, then the rules
    framework = yaml.safe_load(FRAMEWORK.read_text())
    sector_cluster = {
        code: c["name"]
        for c in framework["clusters"]
        if not c["is_cross_cutting"]
        for code in c["oews_sector_codes"]
    }
    by_sector = wide[(wide["area"] == "0000000") & wide["industry"].isin(sector_cluster)]
    top = by_sector.sort_values("employment").groupby("occupation").tail(1)
    sector_share = top.set_index("occupation")["industry"].map(sector_cluster)
    cluster_rules = yaml.safe_load((POLICY / "cluster_rules.yaml").read_text())
    assigned = pd.DataFrame(
        assign(qualifying, cluster_rules, sector_share),
        columns=["occupation", "cluster", "sub_cluster", "weight"],
    ).drop_duplicates(["occupation", "cluster"])
    members = assigned.merge(qualifying, on="occupation")

    # 4. aggregate per cluster; 5. render
    states = areas[areas["areatype_code"] == "S"][["area_code", "area_name"]]
    state_rows = wide[(wide["industry"] == "000000")].merge(
        states, left_on="area", right_on="area_code"
    )
    industry_rows = wide[(wide["area"] == "0000000") & (wide["industry"] != "000000")].merge(
        industries[industries["display_level"] == "2"],
        left_on="industry",
        right_on="industry_code",
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for cluster in [c["name"] for c in framework["clusters"]]:
        own = members[members["cluster"] == cluster]
        codes = set(own["occupation"])
        subs = own.groupby("sub_cluster", as_index=False)["employment"].sum()
        inds = (
            industry_rows[industry_rows["occupation"].isin(codes)]
            .groupby("industry_name", as_index=False)["employment"]
            .sum()
            .nlargest(15, "employment")
        )
        st = (
            state_rows[state_rows["occupation"].isin(codes)]
            .groupby("area_name", as_index=False)["employment"]
            .sum()
            .sort_values("employment")
        )
        figures = [
            px.bar(subs, x="employment", y="sub_cluster", orientation="h"),
            px.bar(inds, x="employment", y="industry_name", orientation="h"),
            px.histogram(own, x="annual_median", nbins=20),
            px.bar(st, x="employment", y="area_name", orientation="h", height=900),
        ]
        table = own[
            ["occupation", "occupation_name", "sub_cluster", "employment", "annual_median"]
        ].sort_values("employment", ascending=False)
        summary = (
            f"{len(own)} qualifying occupations, {own['employment'].sum():,.0f} jobs "
            f"(living wage ${threshold:.2f}/h)"
        )
        slug = next(c["slug"] for c in framework["clusters"] if c["name"] == cluster)
        (args.out / f"{slug}.html").write_text(page(cluster, figures, table, summary), "utf-8")
    seconds = time.perf_counter() - started
    print(
        f"pandas notebook: {len(wide):,} cells, {len(qualifying)} qualifying occupations, "
        f"{len(members)} cluster memberships, 14 pages in {seconds:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
