"""The acronyms a reviewer's guide uses, with their meaning: those of the standards, regulators and methods
the toolkit writes about (below) and the study's own (study.yaml ``reviewers_guide.acronyms``), each listed
only when the guide's text uses it, so the list is made from what the package says.
"""
from __future__ import annotations

import re

STANDARD_ACRONYMS = {
    "aCRF": "Annotated Case Report Form",
    "ADaM": "Analysis Data Model",
    "ADaMIG": "Analysis Data Model Implementation Guide",
    "ADRG": "Analysis Data Reviewer's Guide",
    "AE": "Adverse Event",
    "ANCOVA": "Analysis of Covariance",
    "AUC": "Area Under the Curve",
    "BDS": "Basic Data Structure",
    "CDISC": "Clinical Data Interchange Standards Consortium",
    "CRF": "Case Report Form",
    "CSR": "Clinical Study Report",
    "cSDRG": "Clinical Study Data Reviewer's Guide",
    "CT": "Controlled Terminology",
    "DSMB": "Data Safety Monitoring Board",
    "EDC": "Electronic Data Capture",
    "EPC": "Established Pharmacologic Class",
    "FDA": "United States Food and Drug Administration",
    "FAS": "Full Analysis Set",
    "ISO": "International Organization for Standardization",
    "ITT": "Intention to Treat",
    "LLOQ": "Lower Limit of Quantitation",
    "MedDRA": "Medical Dictionary for Regulatory Activities",
    "MED-RT": "Medication Reference Terminology",
    "NCI": "National Cancer Institute",
    "OCCDS": "Occurrence Data Structure",
    "ODM": "Operational Data Model",
    "PDF": "Portable Document Format",
    "PhUSE": "Pharmaceutical Users Software Exchange",
    "SAP": "Statistical Analysis Plan",
    "SDTM": "Study Data Tabulation Model",
    "SDTMIG": "Study Data Tabulation Model Implementation Guide",
    "SNOMED": "Systematized Nomenclature of Medicine",
    "TCG": "Study Data Technical Conformance Guide (FDA)",
    "TEAE": "Treatment-Emergent Adverse Event",
    "UNII": "Unique Ingredient Identifier (FDA substance registry)",
    "XML": "Extensible Markup Language",
    "XPT": "SAS Transport file (XPORT version 5)",
}


# Not listed: words that are also variable or dataset names with another meaning (ARM is DM's planned arm).


def _pattern(acronym: str) -> re.Pattern:
    # a whole word: not inside a longer name (AE in AESER, CT in CTCAE, ADaM in ADaMIG)
    return re.compile(r"(?<![A-Za-z0-9_-])" + re.escape(acronym) + r"(?![A-Za-z0-9_])")


def acronyms_used(text: str, study_acronyms: dict | None = None) -> list[list[str]]:
    """[acronym, meaning] of the known acronyms that ``text`` uses, sorted case-insensitively; the study's
    own meanings (``study_acronyms``) win over the standard ones."""
    known = {**STANDARD_ACRONYMS, **{str(k): str(v) for k, v in (study_acronyms or {}).items()}}
    found = [[acronym, meaning] for acronym, meaning in known.items() if _pattern(acronym).search(text)]
    return sorted(found, key=lambda row: (row[0].upper(), row[0]))
