"""An interpreter for the CDISC Open Rules (the CORE rule format), on whole columns.

    from validate.openrules import load_rules, run_rules
    rules = load_rules("cdisc-open-rules/Published")
    result = run_rules(rules, package)      # result.issues, result.skips
"""
from validate.openrules.engine import Issue, RunResult, Skip, run_rules
from validate.openrules.loader import OpenRule, load_rules

__all__ = ["Issue", "OpenRule", "RunResult", "Skip", "load_rules", "run_rules"]
