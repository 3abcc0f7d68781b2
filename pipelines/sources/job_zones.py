"""One O*NET Job Zone per OEWS occupation code, with the rule that chose it.

`job_zones_by_soc` rules: an exact SOC match takes the `.00` code's zone if there is one, else
the median of its specialisations' zones (round half up). OEWS aggregates and broad groups
published as detailed (pipelines/oews_soc_alignment.yaml) take the median (round half up) of
their SOC components' zones. Anything else (mostly "All Other" codes) gets no zone (null);
callers fall back to the EP education assignments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import polars as pl

BY_SOC_SCHEMA: dict[str, pl.DataType] = {
    "soc_code": pl.String(),
    "job_zone": pl.Int8(),
    "job_zone_rule": pl.String(),
    "onet_codes": pl.String(),
}
_SOC_CODE = re.compile(r"\d{2}-\d{4}")


def _median_half_up(zones: Sequence[int]) -> int:
    ordered = sorted(zones)
    n = len(ordered)
    return (ordered[(n - 1) // 2] + ordered[n // 2] + 1) // 2


def _listing(zones: Iterable[int]) -> str:
    return ", ".join(str(z) for z in sorted(zones))


def _direct(soc: str, entries: list[tuple[str, int]]) -> tuple[int, str, list[str]]:
    """(zone, rule, O*NET codes used) for a SOC code from its O*NET-SOC rows."""
    own = dict(entries).get(f"{soc}.00")
    specs = [(c, z) for c, z in entries if not c.endswith(".00")]
    if own is not None:
        differ = ", ".join(f"{c[7:]} zone {z}" for c, z in specs if z != own)
        note = f" (the .00 zone; specialisations differ: {differ})" if differ else ""
        return own, f"O*NET {soc}.00{note}", [f"{soc}.00"]
    codes = [c for c, _ in specs]
    if len(specs) == 1:
        return specs[0][1], f"O*NET specialisation {codes[0]} (no {soc}.00)", codes
    zones = _listing(z for _, z in specs)
    rule = (
        f"median of {len(specs)} O*NET specialisations {codes[0]}–{codes[-1][7:]} (zones {zones})"
    )
    return _median_half_up([z for _, z in specs]), rule, codes


def job_zones_by_soc(
    job_zones: pl.DataFrame, soc_codes: list[str], alignment: dict[str, list[str]]
) -> pl.DataFrame:
    """One Job Zone per requested EP/OEWS code (hyphenated, e.g. "15-1252"), in request order.

    job_zones is `read_job_zones()` output; alignment maps OEWS aggregate / broad-as-detailed
    codes to their SOC 2018 components (`load_alignment()`). Columns: soc_code, job_zone
    (Int8, null when O*NET has nothing for the code), job_zone_rule (how the zone was chosen,
    or why there is none), onet_codes (the O*NET-SOC codes used, ", "-separated; null if none).
    An exact SOC match wins over the alignment file; see the module docstring for the rules.
    """
    missing = {"onet_soc_code", "job_zone"} - set(job_zones.columns)
    if missing:
        raise ValueError(f"job_zones lacks column(s) {sorted(missing)}; pass read_job_zones()")
    bad = [c for c in [*soc_codes, *alignment] if not _SOC_CODE.fullmatch(str(c))]
    if bad:
        raise ValueError(f"not hyphenated SOC codes (XX-XXXX): {bad[:10]}")
    by_soc: dict[str, list[tuple[str, int]]] = {}
    for code, zone in job_zones.select("onet_soc_code", "job_zone").sort("onet_soc_code").rows():
        if zone is not None:
            by_soc.setdefault(code[:7], []).append((code, int(zone)))
    direct = {soc: _direct(soc, entries) for soc, entries in by_soc.items()}

    rows = []
    for soc in dict.fromkeys(soc_codes):
        if soc in direct:
            zone, rule, used = direct[soc]
        elif soc in alignment:
            parts = alignment[soc]
            have = [p for p in parts if p in direct]
            lacking = [p for p in parts if p not in direct]
            if have:
                zones = [direct[p][0] for p in have]
                zone = _median_half_up(zones)
                how = (
                    f"zone {zones[0]}" if len(zones) == 1 else f"median of zones {_listing(zones)}"
                )
                rule = f"rolled up from SOC {', '.join(have)} ({how})"
                if lacking:
                    rule += f"; no Job Zone for {', '.join(lacking)}"
                used = [c for p in have for c in direct[p][2]]
            else:
                zone, used = None, []
                rule = f"no Job Zone: no O*NET-SOC code under its SOC parts {', '.join(parts)}"
        else:
            zone, used, rule = None, [], f"no Job Zone: no O*NET-SOC code under {soc}"
        rows.append((soc, zone, rule, ", ".join(used) or None))
    return pl.DataFrame(rows, schema=BY_SOC_SCHEMA, orient="row")
