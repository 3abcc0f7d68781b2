"""The settings that point each source at its publisher's URL or at a local copy.

Download errors name them in their advice, so a user whose network or publisher fails knows
which setting to change, or where to point a copy fetched in a browser.
"""

from __future__ import annotations

LOCAL_SETTINGS = {  # where a user points the pipeline at a copy they downloaded themselves
    "oews": (
        "CCP_OEWS_LOCAL_DIR (a folder holding the oe.* files; for a history backfill "
        "CCP_OEWS_XLSX_LOCAL_PATH and CCP_OEWS_XLSX_INDUSTRY_LOCAL_PATH)"
    ),
    "oews-release-check": "CCP_OEWS_LOCAL_DIR (a folder holding the oe.* files)",
    "naics": "CCP_NAICS_LOCAL_PATH",
    "soc": "CCP_SOC_LOCAL_PATH",
    "ep": "CCP_EP_LOCAL_PATH",
    "onet": "CCP_ONET_LOCAL_PATH",
    "crosswalk": "CCP_CROSSWALK_LOCAL_PATH",
}


def copy_advice(source: str) -> str:
    """The end of a download error's advice: fetch the file yourself and say where it is."""
    setting = LOCAL_SETTINGS.get(source, "the source's CCP_..._LOCAL_PATH setting")
    return f"or download it yourself (in a browser) and point {setting} at your copy"


# The setting that holds each source's URL, named in the advice for a wrong or moved URL.
URL_SETTINGS = {
    "oews": "CCP_BLS_BASE_URL (CCP_OEWS_XLSX_BASE_URL for a history backfill)",
    "oews-release-check": "CCP_BLS_BASE_URL",
    "naics": "CCP_NAICS_URL",
    "soc": "CCP_SOC_URL",
    "ep": "CCP_EP_URL",
    "onet": "CCP_ONET_URL",
    "crosswalk": "CCP_CROSSWALK_URL",
}


def url_setting(source: str) -> str:
    """The setting that holds a source's URL, for a wrong or moved URL."""
    return URL_SETTINGS.get(source, "the URL setting")
