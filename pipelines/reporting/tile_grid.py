"""A US state tile grid (one square per state, roughly where it sits), for maps that need no
geography files and so render offline. Keyed by the 2-digit state FIPS code OEWS uses."""

import polars as pl

# FIPS: (postal abbreviation, row, column)
_TILES = {
    "02": ("AK", 0, 0),
    "23": ("ME", 0, 11),
    "50": ("VT", 1, 10),
    "33": ("NH", 1, 11),
    "53": ("WA", 2, 1),
    "16": ("ID", 2, 2),
    "30": ("MT", 2, 3),
    "38": ("ND", 2, 4),
    "27": ("MN", 2, 5),
    "17": ("IL", 2, 6),
    "55": ("WI", 2, 7),
    "26": ("MI", 2, 8),
    "36": ("NY", 2, 9),
    "44": ("RI", 2, 10),
    "25": ("MA", 2, 11),
    "41": ("OR", 3, 1),
    "32": ("NV", 3, 2),
    "56": ("WY", 3, 3),
    "46": ("SD", 3, 4),
    "19": ("IA", 3, 5),
    "18": ("IN", 3, 6),
    "39": ("OH", 3, 7),
    "42": ("PA", 3, 8),
    "34": ("NJ", 3, 9),
    "09": ("CT", 3, 10),
    "06": ("CA", 4, 1),
    "49": ("UT", 4, 2),
    "08": ("CO", 4, 3),
    "31": ("NE", 4, 4),
    "29": ("MO", 4, 5),
    "21": ("KY", 4, 6),
    "54": ("WV", 4, 7),
    "51": ("VA", 4, 8),
    "24": ("MD", 4, 9),
    "10": ("DE", 4, 10),
    "04": ("AZ", 5, 2),
    "35": ("NM", 5, 3),
    "20": ("KS", 5, 4),
    "05": ("AR", 5, 5),
    "47": ("TN", 5, 6),
    "37": ("NC", 5, 7),
    "45": ("SC", 5, 8),
    "11": ("DC", 5, 9),
    "40": ("OK", 6, 4),
    "22": ("LA", 6, 5),
    "28": ("MS", 6, 6),
    "01": ("AL", 6, 7),
    "13": ("GA", 6, 8),
    "15": ("HI", 7, 0),
    "66": ("GU", 7, 1),
    "48": ("TX", 7, 4),
    "12": ("FL", 7, 9),
    "78": ("VI", 7, 10),
    "72": ("PR", 7, 11),
}

STATE_TILES = pl.DataFrame(
    [
        {"state_code": k, "state_abbr": a, "tile_row": r, "tile_col": c}
        for k, (a, r, c) in _TILES.items()
    ],
    schema={
        "state_code": pl.String,
        "state_abbr": pl.String,
        "tile_row": pl.Int64,
        "tile_col": pl.Int64,
    },
)
