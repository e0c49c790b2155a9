"""The demo EDC's form names and question text (the ODM export's FormDef Name and ItemDef Question).

An item without a question here is exported without one (the annotated CRF then shows its name).
"""

FORM_NAMES = {
    "DM": "Demographics", "IC": "Informed Consent", "RAND": "Randomization", "SV": "Visit Date",
    "VS": "Vital Signs", "EX_CSA": "Ciclosporin Administration", "EX_IL2": "ILT-101/Placebo Injection",
    "AE": "Adverse Event", "INSULIN": "Insulin Diary", "DS": "End of Study",
}

QUESTIONS = {
    "DM": {"BRTHDAT": "Date of birth (DD/MM/YYYY)", "SEX": "Sex", "ETHNIC": "Ethnicity", "RACE": "Race"},
    "IC": {"ICDAT": "Date the informed consent was signed", "ICVERS": "Version of the consent form signed"},
    "RAND": {"RANDDAT": "Date of randomization", "RANDNO": "Randomization number"},
    "SV": {"VISDAT": "Date of visit", "VISTIM": "Time of arrival at the visit"},
    "VS": {"VSDAT": "Date of measurements", "VSTIM": "Time of measurements", "VSPOS": "Position of the subject",
           "WEIGHT": "Weight (kg)", "HEIGHT": "Height (cm)", "SYSBP": "Systolic blood pressure (mmHg)",
           "DIABP": "Diastolic blood pressure (mmHg)", "PULSE": "Pulse rate (beats/min)",
           "TEMP": "Body temperature (C)"},
    "EX_CSA": {"EXSTDAT": "Start date of the ciclosporin dose", "EXENDAT": "End date of the ciclosporin dose",
               "EXDOSE": "Daily dose", "EXDOSU": "Dose unit", "EXROUTE": "Route of administration"},
    "EX_IL2": {"EXDAT": "Date of injection", "EXTIM": "Time of injection", "EXKITNO": "Kit number",
               "EXYN": "Was the injection given?", "EXREASND": "If not given, reason"},
    "AE": {"AETERM": "Adverse event (verbatim term)", "AESTDAT": "Start date", "AEENDAT": "End date",
           "AEONGO": "Ongoing?", "AESEV": "Severity", "AESER": "Serious?", "AESDTH": "Resulted in death?",
           "AESLIFE": "Life threatening?", "AESHOSP": "Required or prolonged hospitalization?",
           "AESDISAB": "Persistent or significant disability/incapacity?",
           "AESCONG": "Congenital anomaly or birth defect?", "AESMIE": "Other medically important event?",
           "AEREL_CSA": "Relationship to ciclosporin", "AEREL_IL2": "Relationship to ILT-101/placebo",
           "AEACN_IL2": "Action taken with ILT-101/placebo", "AEOUT": "Outcome",
           "AETERM_LLT": "MedDRA lowest level term (coded)", "AETERM_LLT_CODE": "MedDRA LLT code (coded)",
           "AETERM_PT": "MedDRA preferred term (coded)", "AETERM_PT_CODE": "MedDRA PT code (coded)",
           "AETERM_HLT": "MedDRA high level term (coded)", "AETERM_HLT_CODE": "MedDRA HLT code (coded)",
           "AETERM_HLGT": "MedDRA high level group term (coded)",
           "AETERM_HLGT_CODE": "MedDRA HLGT code (coded)", "AETERM_SOC": "MedDRA system organ class (coded)",
           "AETERM_SOC_CODE": "MedDRA SOC code (coded)", "AETERM_DICT": "Dictionary and version (coded)"},
    "INSULIN": {"CMDAT": "Date of the diary day", "INSDOSE": "Total insulin dose of the day (U)"},
    "DS": {"DSSTDAT": "Date of end of study", "DSDECOD": "Status at the end of study",
           "DSTERM": "Reason (as written)"},
}
