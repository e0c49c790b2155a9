"""Conformance validator: checks any SDTM/ADaM package (XPT or Dataset-JSON, with or without define.xml).

It never imports sdtm/, adam/ or define/: it reads only what was written.

    from validate import validate
    package, findings = validate("out/sdtm")          # findings: one tidy DataFrame
"""
from validate.cli import main, validate
from validate.package import Package, load_package
from validate.registry import RULES, rule, run_rules

__all__ = ["validate", "main", "Package", "load_package", "RULES", "rule", "run_rules"]
