"""The ADaM derivation library, in admiral's grammar: pure functions over data frames.

``STEPS`` maps each function a spec step may name to the function itself.
"""
from __future__ import annotations

from .baseline import (derive_basetype_records, derive_var_ablfl, derive_var_base, derive_var_chg,
                       derive_var_extreme_flag, derive_var_pchg)
from .compute import compute_bmi, derive_var_bmi, derive_var_ratio
from .dates import (compute_dy, derive_var_duration, derive_vars_dt, derive_vars_dy, impute_dtc_dt,
                    sas_date, sas_date_to_datetime)
from .exposure import (compute_planned_days, derive_var_planned_doses, derive_var_product,
                       get_param_records)
from .flags import derive_var_anl_flag, derive_var_compare_flag, derive_var_cond_flag, derive_var_crit_flag
from .imputation import derive_vars_blq
from .merged import (derive_var_merged_exist_flag, derive_var_merged_summary, derive_vars_merged,
                     derive_vars_merged_lookup)
from .occurrence import derive_var_trtemfl, derive_vars_supp
from .params import compute_auc, compute_auc_matrix, derive_param_auc, derive_param_computed, get_summary_records
from .periods import create_period_dataset, derive_var_period_end, derive_vars_joined, derive_vars_period
from .ranges import derive_var_anrind, derive_var_bnrind
from .records import (derive_vars_assigned, derive_vars_cat, derive_vars_copy, derive_vars_if_absent,
                      filter_records)
from .traceability import derive_var_obs_number, derive_vars_traceability
from .visits import derive_vars_visit_windows

STEPS = {f.__name__: f for f in (
    filter_records, derive_vars_copy, derive_vars_assigned, derive_vars_cat, derive_vars_if_absent,
    derive_vars_merged, derive_vars_merged_lookup, derive_var_merged_summary, derive_var_merged_exist_flag,
    derive_vars_dt, derive_vars_dy, derive_var_duration,
    derive_vars_visit_windows, derive_var_anl_flag, derive_var_cond_flag, derive_var_compare_flag,
    derive_var_crit_flag, derive_basetype_records, derive_var_extreme_flag, derive_var_ablfl,
    derive_var_base, derive_var_chg, derive_var_pchg, derive_var_anrind, derive_var_bnrind,
    derive_param_auc, derive_param_computed, get_summary_records,
    derive_vars_traceability, derive_var_obs_number, derive_var_ratio, derive_var_bmi,
    derive_var_period_end, derive_vars_period, create_period_dataset, derive_vars_joined,
    derive_var_planned_doses, derive_var_product, get_param_records, derive_vars_blq,
    derive_var_trtemfl, derive_vars_supp,
)}

__all__ = sorted(STEPS) + ["STEPS", "compute_auc", "compute_auc_matrix", "compute_bmi", "compute_dy",
                           "compute_planned_days",
                           "impute_dtc_dt", "sas_date", "sas_date_to_datetime"]
