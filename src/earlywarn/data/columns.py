"""Names of the data contract's tables and columns, one home for every spelling."""

from typing import Final

# tables
HOUSEHOLDS: Final = "households"
HOUSEHOLD_YEARS: Final = "household_years"
EVENTS: Final = "events"
ASSISTANCE: Final = "assistance"
LINES: Final = "lines"
PLACES: Final = "places"
REQUIRED_TABLES: Final = (HOUSEHOLDS, HOUSEHOLD_YEARS)
OPTIONAL_TABLES: Final = (EVENTS, ASSISTANCE, LINES, PLACES)

# places (optional): the names of the counties' and villages' codes, for the sheets
COUNTY_NAME: Final = "county_name"
VILLAGE_NAME: Final = "village_name"

# households
HOUSEHOLD_ID: Final = "household_id"
COUNTY: Final = "county"
VILLAGE: Final = "village"
HEAD_SEX: Final = "head_sex"
HEAD_BIRTH_YEAR: Final = "head_birth_year"
HEAD_EDUCATION_YEARS: Final = "head_education_years"
ETHNIC_MINORITY: Final = "ethnic_minority"
POVERTY_EXIT_YEAR: Final = "poverty_exit_year"

# personal columns: split off at the schema boundary, only reports get them back
HEAD_NAME: Final = "head_name"
ID_NUMBER: Final = "id_number"
PHONE: Final = "phone"
ADDRESS: Final = "address"
PERSONAL_COLUMNS: Final = (HEAD_NAME, ID_NUMBER, PHONE, ADDRESS)

# household_years
YEAR: Final = "year"
HOUSEHOLD_SIZE: Final = "household_size"
N_LABOR: Final = "n_labor"
N_ELDERLY: Final = "n_elderly"
N_CHILDREN: Final = "n_children"
N_STUDENTS: Final = "n_students"
N_DISABLED: Final = "n_disabled"
N_CHRONIC_ILL: Final = "n_chronic_ill"
N_MIGRANT_WORKERS: Final = "n_migrant_workers"
MEMBER_COUNTS: Final = (
    N_LABOR,
    N_ELDERLY,
    N_CHILDREN,
    N_STUDENTS,
    N_DISABLED,
    N_CHRONIC_ILL,
    N_MIGRANT_WORKERS,
)
WAGE_INCOME: Final = "wage_income"
BUSINESS_INCOME: Final = "business_income"
PROPERTY_INCOME: Final = "property_income"
TRANSFER_INCOME: Final = "transfer_income"
INCOME_SOURCES: Final = (WAGE_INCOME, BUSINESS_INCOME, PROPERTY_INCOME, TRANSFER_INCOME)
MEDICAL_EXPENSE: Final = "medical_expense"
EDUCATION_EXPENSE: Final = "education_expense"
RIGID_EXPENSES: Final = (MEDICAL_EXPENSE, EDUCATION_EXPENSE)
HOUSING_SAFE: Final = "housing_safe"
WATER_SAFE: Final = "water_safe"
HAS_MEDICAL_INSURANCE: Final = "has_medical_insurance"
SAFETY_FLAGS: Final = (HOUSING_SAFE, WATER_SAFE, HAS_MEDICAL_INSURANCE)

# events
DATE: Final = "date"
EVENT_TYPE: Final = "event_type"
COST: Final = "cost"
EVENT_TYPES: Final = (
    "illness",
    "injury",
    "disability",
    "chronic_diagnosis",
    "death",
    "job_loss",
    "crop_failure",
    "livestock_loss",
    "disaster",
    "epidemic_lockdown",
    "other",
)

# assistance
START_DATE: Final = "start_date"
END_DATE: Final = "end_date"
MEASURE: Final = "measure"
AMOUNT: Final = "amount"
MEASURES: Final = (
    "industrial",
    "employment",
    "medical",
    "minimum_living_allowance",
    "education",
    "housing",
    "insurance",
    "other",
)

# lines
LINE: Final = "line"

# plausibility (data contract)
MAX_HOUSEHOLD_SIZE: Final = 50
MAX_ABS_MONEY: Final = 100_000_000.0
MIN_YEAR: Final = 1900

# outputs
AS_OF: Final = "as_of"
TARGET_YEAR: Final = "target_year"
LABEL_POOR: Final = "label_poor"
RISK: Final = "risk"
FLAGGED: Final = "flagged"
REASONS: Final = "reasons"
RANK_IN_VILLAGE: Final = "rank_in_village"  # 1 = the highest risk in its village
MODEL_VERSION: Final = "model_version"
ORACLE_PROBABILITY: Final = "oracle_probability"
POOR: Final = "poor"

DEFAULT_LINES: Final = {
    2014: 2800.0,
    2015: 2855.0,
    2016: 2952.0,
    2017: 3335.0,
    2018: 3535.0,
    2019: 3747.0,
    2020: 4000.0,
    2021: 6000.0,
    2022: 6500.0,
    2023: 6900.0,
    2024: 7300.0,
    2025: 7600.0,
}
