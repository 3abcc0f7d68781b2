"""Small stand-ins for Advance CTE's Framework Crosswalk workbook, built with openpyxl.

The real file (Full_Framework_Crosswalk_SOC-Career-Clusters.xlsx) is never shipped or
extracted; `SAMPLE_ROWS` are hand-written rows in its published style, with its quirks:

* serial-comma names: "Arts, Entertainment, & Design", "Hospitality, Events, & Tourism",
  "Teaching, Training, & Facilitation", "Market Research, Analytics, & Ethics";
* one sub-cluster in lower case ("software solutions", 15-1253);
* an SOC in two sub-clusters of one cluster (15-1252: Software Solutions, Web & Cloud);
* SOCs in two clusters (11-2021 Marketing Managers: Marketing & Sales and Management &
  Entrepreneurship; 41-3021 Insurance Sales Agents: Financial Services and Marketing & Sales);
* military 55-1011 and 55-3016 (OEWS has no 55-xxxx), the OEWS aggregate 21-1018 and the
  broad-as-detailed 13-1020;
* one misspelled sub-cluster, "Softwear Solutions" (15-1251), for name-matching tests;
* stray spaces (incl. a no-break space) around some cells and one code written without its
  hyphen ("472111"): `read_crosswalk` strips and repairs those (see `SAMPLE_EXPECTED`).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

from pipelines.sources.crosswalk import CROSSWALK_SHEET

CROSSWALK_HEADER = ("SOC Code", "Occupation Title", "Career Cluster", "Sub-Cluster")

ARTS = "Arts, Entertainment, & Design"
HOSP = "Hospitality, Events, & Tourism"
DT = "Digital Technology"
HHS = "Healthcare & Human Services"
CON = "Construction"
FIN = "Financial Services"
MKT = "Marketing & Sales"
MGT = "Management & Entrepreneurship"
SCT = "Supply Chain & Transportation"
PSS = "Public Service & Safety"
EDU = "Education"

SAMPLE_ROWS: list[tuple[str, str, str, str | None]] = [
    ("15-1252", "Software Developers", DT, "Software Solutions"),
    ("15-1252", "Software Developers", DT, "Web & Cloud"),
    ("15-1253", "Software Quality Assurance Analysts and Testers", DT, "software solutions"),
    ("15-1251", "Computer Programmers", DT, "Softwear Solutions"),
    ("15-1254", "Web Developers", DT, "Web & Cloud"),
    ("15-1212", "Information Security Analysts", DT, "Network Systems & Cybersecurity"),
    ("15-2051", "Data Scientists", DT, "Data Science & AI"),
    ("15-1232", "Computer User Support Specialists", DT, "IT Support & Services"),
    ("29-1141 ", "Registered Nurses ", HHS, "Physical Health"),
    ("29-2061", "Licensed Practical and Licensed Vocational Nurses", HHS, "Physical Health"),
    (
        "21-1018",
        "Substance Abuse, Behavioral Disorder, and Mental Health Counselors",
        HHS,
        "Behavioral & Mental Health",
    ),
    ("21-1021", "Child, Family, and School Social Workers", HHS, "Community & Social Services"),
    ("29-2072", "Medical Records Specialists", HHS, "Health Data & Administration"),
    ("39-5012", "Hairdressers, Hairstylists, and Cosmetologists", HHS, "Personal Care Services"),
    ("472111", "Electricians", f" {CON} ", "Skilled Trades\u00a0"),
    ("47-2031", "Carpenters", CON, "Skilled Trades"),
    (
        "47-2073",
        "Operating Engineers and Other Construction Equipment Operators",
        CON,
        "Equipment Operation & Maintenance",
    ),
    ("17-2051", "Civil Engineers", CON, "Architecture & Civil Engineering"),
    ("11-9021", "Construction Managers", CON, "Construction Planning & Development"),
    ("13-2011", "Accountants and Auditors", FIN, "Accounting"),
    ("43-3071", "Tellers", FIN, "Banking & Credit"),
    ("41-3021", "Insurance Sales Agents", FIN, "Insurance"),
    ("41-3021", "Insurance Sales Agents", MKT, "Strategic Sales"),
    ("11-2021", "Marketing Managers", MKT, "Marketing & Advertising"),
    ("11-2021", "Marketing Managers", MGT, "Leadership & Operations"),
    (
        "13-1161",
        "Market Research Analysts and Marketing Specialists",
        MKT,
        "Market Research, Analytics, & Ethics",
    ),
    ("41-2031", "Retail Salespersons", MKT, "Retail & Customer Experience"),
    ("11-1021", "General and Operations Managers", MGT, "Leadership & Operations"),
    ("13-1082", "Project Management Specialists", MGT, "Project Management"),
    ("53-3032", "Heavy and Tractor-Trailer Truck Drivers", SCT, "Ground & Rail Transportation"),
    ("13-1020", "Buyers and Purchasing Agents", SCT, "Purchasing & Warehousing"),
    (
        "53-2011",
        "Airline Pilots, Copilots, and Flight Engineers",
        SCT,
        "Air & Space Transportation",
    ),
    ("49-3023", "Automotive Service Technicians and Mechanics", SCT, "Maintenance & Repair"),
    ("55-1011", "Air Crew Officers", PSS, "Military & National Security"),
    ("55-3016", "Infantry", PSS, "Military & National Security"),
    ("33-3051", "Police and Sheriff's Patrol Officers", PSS, "Public Safety"),
    ("33-2011", "Firefighters", PSS, "Emergency Response"),
    (
        "25-2021",
        "Elementary School Teachers, Except Special Education",
        EDU,
        "Teaching, Training, & Facilitation",
    ),
    ("39-9011", "Childcare Workers", EDU, "Early Childhood Development"),
    ("27-1024", "Graphic Designers", ARTS, "Design & Digital Arts"),
    ("35-2014", "Cooks, Restaurant", HOSP, "Culinary & Food Services"),
    ("13-1121", "Meeting, Convention, and Event Planners", HOSP, "Conferences & Events"),
    ("51-4041", "Machinists", "Advanced Manufacturing", "Industrial Machinery"),
    (
        "45-2091",
        "Agricultural Equipment Operators",
        "Agriculture",
        "Agricultural Technology & Automation",
    ),
    (
        "47-2231",
        "Solar Photovoltaic Installers",
        "Energy & Natural Resources",
        "Clean & Alternative Energy",
    ),
]

# What read_crosswalk returns for SAMPLE_ROWS: (soc_code, title, cluster, sub-cluster).
SAMPLE_EXPECTED: list[tuple[str, str, str, str | None]] = [
    (
        code.strip() if "-" in code else f"{code.strip()[:2]}-{code.strip()[2:]}",
        title.strip(),
        cluster.strip(),
        sub.strip() if sub is not None and sub.strip() else None,
    )
    for code, title, cluster, sub in SAMPLE_ROWS
]


def _overview(ws) -> None:
    ws["A1"] = "National Career Clusters® Framework Crosswalk: SOC to Career Clusters"
    ws["A3"] = "This workbook aligns 2018 SOC occupations to the Career Clusters and Sub-Clusters."
    ws["A5"] = "Sheet"
    ws["B5"] = "Contents"
    contents = [
        (CROSSWALK_SHEET, "One row per SOC code and Sub-Cluster"),
        ("SOC - CC (Wide)", "One row per SOC code, Career Clusters in columns"),
        ("Single Career Cluster SOCs", "SOC codes aligned to exactly one Career Cluster"),
        ("Interdisciplinary SOCs", "SOC codes aligned to more than one Career Cluster"),
    ]
    for r, (name, text) in enumerate(contents, start=6):
        ws.cell(row=r, column=1, value=name)
        ws.cell(row=r, column=2, value=text)


def _clusters_by_soc(rows: list[tuple[str, str, str, str | None]]) -> dict[str, list[str]]:
    by_soc: dict[str, list[str]] = {}
    for code, _, cluster, _ in rows:
        clusters = by_soc.setdefault(str(code).strip(), [])
        if cluster and cluster.strip() not in clusters:
            clusters.append(cluster.strip())
    return by_soc


def write_crosswalk_workbook(
    path: Path,
    rows: list[tuple[str, str, str, str | None]],
    *,
    header_row: int = 1,
    sheet: str = CROSSWALK_SHEET,
    columns: tuple[str, ...] = CROSSWALK_HEADER,
    extra_sheets: bool = True,
) -> Path:
    """Write `rows` (SOC code, title, cluster, sub-cluster) below `columns` on `header_row`
    of sheet `sheet`, in the published layout; a title banner sits above a moved header.

    Values are written as given (text); None or "" leaves the cell blank. With
    `extra_sheets`, the other published sheets (Overview, SOC - CC (Wide), Single Career
    Cluster SOCs, Interdisciplinary SOCs) are added with a few plausible cells.
    """
    path = Path(path)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if extra_sheets:
        _overview(wb.create_sheet("Overview"))

    ws = wb.create_sheet(sheet)
    if header_row > 1:
        ws.cell(row=1, column=1, value="SOC Codes by Career Cluster and Sub-Cluster")
    for c, name in enumerate(columns, start=1):
        ws.cell(row=header_row, column=c, value=name)
    for r, row in enumerate(rows, start=header_row + 1):
        for c, value in enumerate(row, start=1):
            if value is not None and value != "":
                ws.cell(row=r, column=c, value=value)

    if extra_sheets:
        titles = {str(code).strip(): str(title).strip() for code, title, _, _ in rows}
        by_soc = _clusters_by_soc(rows)
        width = max((len(v) for v in by_soc.values()), default=1)
        wide = wb.create_sheet("SOC - CC (Wide)")
        wide.append(
            ["SOC Code", "Occupation Title"] + [f"Career Cluster {k + 1}" for k in range(width)]
        )
        for code, clusters in by_soc.items():
            wide.append([code, titles[code], *clusters])
        single = wb.create_sheet("Single Career Cluster SOCs")
        single.append(["SOC Code", "Occupation Title", "Career Cluster"])
        inter = wb.create_sheet("Interdisciplinary SOCs")
        inter.append(
            ["SOC Code", "Occupation Title", "Career Clusters", "Number of Career Clusters"]
        )
        for code, clusters in by_soc.items():
            if len(clusters) == 1:
                single.append([code, titles[code], clusters[0]])
            elif clusters:
                inter.append([code, titles[code], "; ".join(clusters), len(clusters)])
    wb.save(path)
    return path
