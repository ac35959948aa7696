"""The simulated registry: household ids, places, heads of household and fake personal data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from earlywarn.data import columns as c
from earlywarn.simulator.world import FIRST_YEAR

HOUSEHOLDS_PER_VILLAGE = 110
SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林杨段普李和字杞")
GIVEN = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文云福贵春梅海")
PLACE = tuple("安平永宁云龙华坪兰昌保山江城德普洱施甸祥和石屏元阳红河西盟澜沧")


@dataclass(frozen=True)
class Registry:
    """One entry per household (arrays in household order): ids, county (code and index
    0..n_counties-1), village, the head's birth year, schooling (years), sex and minority,
    two uniform draws that decide when its housing and water are safe, and ``personal``
    (names, ID numbers, phones, addresses; all fake)."""

    household_id: np.ndarray
    county_index: np.ndarray
    county: np.ndarray
    village: np.ndarray
    birth_year: np.ndarray
    education: np.ndarray
    head_sex: np.ndarray
    minority: np.ndarray
    housing_u: np.ndarray
    water_u: np.ndarray
    personal: pd.DataFrame


def draw_registry(n: int, n_counties: int, rng: np.random.Generator) -> Registry:
    """``n`` households spread over ``n_counties`` counties and their villages."""
    width = max(6, len(str(n)))
    household_id = np.array([f"H{i:0{width}d}" for i in range(1, n + 1)])
    codes = np.array([f"53{i // 30 + 1:02d}{i % 30 + 21:02d}" for i in range(n_counties)])
    county_index = rng.integers(0, n_counties, n)
    county_index[:n_counties] = np.arange(min(n, n_counties))
    per_county = np.bincount(county_index, minlength=n_counties)
    n_villages = np.maximum(2, np.round(per_county / HOUSEHOLDS_PER_VILLAGE)).astype(int)
    village_index = (rng.random(n) * n_villages[county_index]).astype(int)
    county = codes[county_index]
    village = np.char.add(county, np.char.zfill((village_index + 1).astype(str), 3))
    age = np.clip(rng.normal(50, 12, n), 22, 88).round().astype(int)
    birth_year = FIRST_YEAR - age
    education = np.clip(rng.normal(7.5 - 0.06 * (age - 50), 3, n), 0, 16).round().astype(int)
    minority_share = rng.uniform(0.05, 0.8, n_counties)
    minority = rng.random(n) < minority_share[county_index]
    head_sex = np.where(rng.random(n) < 0.86, "M", "F")
    county_names = np.array([_place_name(rng) for _ in range(n_counties)])
    personal = pd.DataFrame(
        {
            c.HEAD_NAME: _names(n, rng),
            c.ID_NUMBER: _id_numbers(county, birth_year, head_sex, rng),
            c.PHONE: _phones(n, rng),
            c.ADDRESS: [
                f"云南省{county_names[k]}县{_village_name(k, v)}村{g}组{h}号"
                for k, v, g, h in zip(
                    county_index,
                    village_index,
                    rng.integers(1, 9, n),
                    rng.integers(1, 200, n),
                    strict=True,
                )
            ],
        },
        index=pd.Index(household_id, name=c.HOUSEHOLD_ID, dtype="str"),
    ).astype("str")
    return Registry(
        household_id,
        county_index,
        county,
        village,
        birth_year,
        education,
        head_sex,
        minority,
        rng.random(n),
        rng.random(n),
        personal,
    )


def _place_name(rng: np.random.Generator) -> str:
    return "".join(rng.choice(PLACE, 2))


def _village_name(county: int, village: int) -> str:
    return PLACE[(county * 7 + village) % len(PLACE)] + PLACE[(county + village * 3) % len(PLACE)]


def _names(n: int, rng: np.random.Generator) -> np.ndarray:
    surname = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    first = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    second = np.where(rng.random(n) < 0.6, np.array(GIVEN)[rng.integers(0, len(GIVEN), n)], "")
    return np.char.add(np.char.add(surname, first), second)


def _id_numbers(
    county: np.ndarray, birth_year: np.ndarray, sex: np.ndarray, rng: np.random.Generator
) -> list[str]:
    """18-character resident IDs with a valid ISO 7064 check digit (all fake)."""
    n = len(county)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    seq = rng.integers(0, 500, n) * 2 + (sex == "M")
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    ids = []
    for area, y, m, d, q in zip(county, birth_year, month, day, seq, strict=True):
        body = f"{area}{y:04d}{m:02d}{d:02d}{q:03d}"
        total = sum(int(ch) * w for ch, w in zip(body, weights, strict=True))
        ids.append(body + "10X98765432"[total % 11])
    return ids


def _phones(n: int, rng: np.random.Generator) -> np.ndarray:
    prefix = np.array(["13", "15", "17", "18", "19"])[rng.integers(0, 5, n)]
    return np.char.add(prefix, np.char.zfill(rng.integers(0, 10**9, n).astype(str), 9))
