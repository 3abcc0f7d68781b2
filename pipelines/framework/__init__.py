"""The National Career Clusters® Framework as versioned project data (`framework_2024.yaml`)."""

from pipelines.framework.definition import (
    DEFAULT_PATH,
    Cluster,
    Framework,
    FrameworkError,
    Grouping,
    SubCluster,
    load_framework,
    name_key,
    oews_sector_code,
    slugify,
)

__all__ = [
    "DEFAULT_PATH",
    "Cluster",
    "Framework",
    "FrameworkError",
    "Grouping",
    "SubCluster",
    "load_framework",
    "name_key",
    "oews_sector_code",
    "slugify",
]
