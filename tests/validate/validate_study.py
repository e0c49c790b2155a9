"""A small, clean SDTM + ADaM package typed by hand, its writer, a define.xml writer and a stub CT.

Study XYZ-01: subjects 001 (arm A, first dose 2024-01-10) and 002 (arm B, first dose 2024-01-15) were
treated, 003 failed screening (no arm, ARMNRS = SCREEN FAILURE). Tests copy ``clean_frames()``, plant
one defect and check the validator reports exactly that.
"""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import pyreadstat

from validate.standards import adamig_table, sdtmig_table
from validate.terminology import CodelistTerms, Terminology

NA = np.nan
S1, S2, S3 = "XYZ-01-001", "XYZ-01-002", "XYZ-01-003"


def sasdate(iso: str) -> float:
    return float((pd.Timestamp(iso) - pd.Timestamp("1960-01-01")).days)


def _frame(columns: dict, numeric: tuple = ()) -> pd.DataFrame:
    df = pd.DataFrame(columns)
    for col in df.columns:
        df[col] = df[col].astype("float64") if col in numeric else df[col].astype(object)
    return df


def clean_frames() -> dict[str, pd.DataFrame]:
    dm = _frame({
        "STUDYID": ["XYZ-01"] * 3, "DOMAIN": ["DM"] * 3, "USUBJID": [S1, S2, S3], "SUBJID": ["001", "002", "003"],
        "RFSTDTC": ["2024-01-10", "2024-01-15", None], "RFENDTC": ["2024-02-20", "2024-02-25", None],
        "RFXSTDTC": ["2024-01-10", "2024-01-15", None], "RFXENDTC": ["2024-01-12", "2024-01-17", None],
        "RFICDTC": ["2024-01-02", "2024-01-05", "2024-01-06"], "RFPENDTC": ["2024-02-20", "2024-02-25", "2024-01-08"],
        "DTHDTC": [None] * 3, "DTHFL": [None] * 3, "SITEID": ["01"] * 3, "AGE": [34, 41, 29],
        "AGEU": ["YEARS"] * 3, "SEX": ["F", "M", "F"], "RACE": ["WHITE", "ASIAN", "WHITE"],
        "ARMCD": ["A", "B", None], "ARM": ["Drug A", "Placebo", None], "ACTARMCD": ["A", "B", None],
        "ACTARM": ["Drug A", "Placebo", None], "ARMNRS": [None, None, "SCREEN FAILURE"], "ACTARMUD": [None] * 3,
        "COUNTRY": ["FRA"] * 3,
    }, numeric=("AGE",))
    ex = _frame({
        "STUDYID": ["XYZ-01"] * 2, "DOMAIN": ["EX"] * 2, "USUBJID": [S1, S2], "EXSEQ": [1, 1],
        "EXTRT": ["DRUG A", "PLACEBO"], "EXDOSE": [10, 0], "EXDOSU": ["mg", "mg"], "EXDOSFRM": ["TABLET", "TABLET"],
        "EPOCH": ["TREATMENT"] * 2, "EXSTDTC": ["2024-01-10", "2024-01-15"],
        "EXENDTC": ["2024-01-12", "2024-01-17"], "EXSTDY": [1, 1], "EXENDY": [3, 3],
    }, numeric=("EXSEQ", "EXDOSE", "EXSTDY", "EXENDY"))
    lb = _frame({
        "STUDYID": ["XYZ-01"] * 5, "DOMAIN": ["LB"] * 5, "USUBJID": [S1, S1, S1, S2, S2], "LBSEQ": [1, 2, 3, 1, 2],
        "LBTESTCD": ["GLUC", "GLUC", "CREAT", "GLUC", "GLUC"],
        "LBTEST": ["Glucose", "Glucose", "Creatinine", "Glucose", "Glucose"], "LBCAT": ["CHEMISTRY"] * 5,
        "LBORRES": ["5.2", "6.8", "<10", "4.9", "5.5"],
        "LBORRESU": ["mmol/L", "mmol/L", "umol/L", "mmol/L", "mmol/L"],
        "LBORNRLO": ["3.9", "3.9", "45", "3.9", "3.9"], "LBORNRHI": ["6.1", "6.1", "90", "6.1", "6.1"],
        "LBSTRESC": ["5.2", "6.8", "<10", "4.9", "5.5"], "LBSTRESN": [5.2, 6.8, NA, 4.9, 5.5],
        "LBSTRESU": ["mmol/L", "mmol/L", "umol/L", "mmol/L", "mmol/L"],
        "LBSTNRLO": [3.9, 3.9, 45, 3.9, 3.9], "LBSTNRHI": [6.1, 6.1, 90, 6.1, 6.1],
        "LBNRIND": ["NORMAL", "HIGH", "LOW", "NORMAL", "NORMAL"], "LBLOBXFL": ["Y", None, None, "Y", None],
        "VISITNUM": [1, 2, 2, 1, 2], "VISIT": ["SCREENING", "WEEK 1", "WEEK 1", "SCREENING", "WEEK 1"],
        "EPOCH": ["SCREENING", "TREATMENT", "TREATMENT", "SCREENING", "TREATMENT"],
        "LBDTC": ["2024-01-08", "2024-01-17", "2024-01-17T08:30", "2024-01-12", "2024-01-22"],
        "LBDY": [-2, 8, 8, -3, 8],
    }, numeric=("LBSEQ", "LBSTRESN", "LBSTNRLO", "LBSTNRHI", "VISITNUM", "LBDY"))
    meddra_num = ("AELLTCD", "AEPTCD", "AEHLTCD", "AEHLGTCD", "AEBDSYCD", "AESOCCD")
    ae = _frame({
        "STUDYID": ["XYZ-01"] * 2, "DOMAIN": ["AE"] * 2, "USUBJID": [S1, S2], "AESEQ": [1, 1],
        "AETERM": ["Headache", "Nausea"], "AELLT": [None] * 2, "AELLTCD": [NA] * 2, "AEDECOD": ["Headache", "Nausea"],
        "AEPTCD": [NA] * 2, "AEHLT": [None] * 2, "AEHLTCD": [NA] * 2, "AEHLGT": [None] * 2, "AEHLGTCD": [NA] * 2,
        "AEBODSYS": [None] * 2, "AEBDSYCD": [NA] * 2, "AESOC": [None] * 2, "AESOCCD": [NA] * 2,
        "AESER": ["N", "N"], "AEACN": ["DOSE NOT CHANGED"] * 2, "AEREL": ["NOT RELATED", "RELATED"],
        "EPOCH": ["TREATMENT"] * 2, "AESTDTC": ["2024-01-11", "2024-01-16"], "AEENDTC": ["2024-01-13", "2024-01-16"],
        "AESTDY": [2, 2], "AEENDY": [4, 2],
    }, numeric=("AESEQ", "AESTDY", "AEENDY") + meddra_num)
    suppae = _frame({
        "STUDYID": ["XYZ-01"], "RDOMAIN": ["AE"], "USUBJID": [S1], "IDVAR": ["AESEQ"], "IDVARVAL": ["1"],
        "QNAM": ["AETRTEM"], "QLABEL": ["Treatment Emergent Flag"], "QVAL": ["Y"], "QORIG": ["DERIVED"],
        "QEVAL": [None],
    })
    sv = _frame({
        "STUDYID": ["XYZ-01"] * 5, "DOMAIN": ["SV"] * 5, "USUBJID": [S1, S1, S2, S2, S3],
        "VISITNUM": [1, 2, 1, 2, 1], "VISIT": ["SCREENING", "WEEK 1", "SCREENING", "WEEK 1", "SCREENING"],
        "SVPRESP": ["Y"] * 5, "SVOCCUR": ["Y"] * 5,  # no EPOCH: SDTMIG 3.4 SV does not define it
        "SVSTDTC": ["2024-01-08", "2024-01-17", "2024-01-12", "2024-01-22", "2024-01-07"],
        "SVENDTC": ["2024-01-08", "2024-01-17", "2024-01-12", "2024-01-22", "2024-01-07"],
        "SVSTDY": [-2, 8, -3, 8, NA], "SVENDY": [-2, 8, -3, 8, NA],
    }, numeric=("VISITNUM", "SVSTDY", "SVENDY"))
    ta = _frame({
        "STUDYID": ["XYZ-01"] * 4, "DOMAIN": ["TA"] * 4, "ARMCD": ["A", "A", "B", "B"],
        "ARM": ["Drug A", "Drug A", "Placebo", "Placebo"], "TAETORD": [1, 2, 1, 2],
        "ETCD": ["SCRN", "DRUGA", "SCRN", "PBO"], "ELEMENT": ["Screening", "Drug A", "Screening", "Placebo"],
        "TABRANCH": [None, None, None, None], "TATRANS": [None] * 4,
        "EPOCH": ["SCREENING", "TREATMENT", "SCREENING", "TREATMENT"],
    }, numeric=("TAETORD",))
    tv = _frame({
        "STUDYID": ["XYZ-01"] * 2, "DOMAIN": ["TV"] * 2, "VISITNUM": [1, 2], "VISIT": ["SCREENING", "WEEK 1"],
        "ARMCD": [None, None], "TVSTRL": ["Start of screening", "Day 8"],
    }, numeric=("VISITNUM",))
    adsl = _frame({
        "STUDYID": ["XYZ-01"] * 2, "USUBJID": [S1, S2], "SUBJID": ["001", "002"], "SITEID": ["01", "01"],
        "AGE": [34, 41], "AGEU": ["YEARS"] * 2, "SEX": ["F", "M"], "RACE": ["WHITE", "ASIAN"], "SAFFL": ["Y", "Y"],
        "ARM": ["Drug A", "Placebo"], "TRT01P": ["Drug A", "Placebo"],
        "TRTSDT": [sasdate("2024-01-10"), sasdate("2024-01-15")],
    }, numeric=("AGE", "TRTSDT"))
    adlb = _frame({
        "STUDYID": ["XYZ-01"] * 4, "USUBJID": [S1, S1, S2, S2], "PARAMCD": ["GLUC"] * 4,
        "PARAM": ["Glucose (mmol/L)"] * 4, "AVAL": [5.2, 6.8, 4.9, 5.5], "BASE": [5.2, 5.2, 4.9, 4.9],
        "CHG": [NA, 1.6, NA, 0.6], "PCHG": [NA, 30.77, NA, 12.24], "ABLFL": ["Y", None, "Y", None],
        "ADT": [sasdate("2024-01-08"), sasdate("2024-01-17"), sasdate("2024-01-12"), sasdate("2024-01-22")],
        "ADY": [-2, 8, -3, 8], "AVISIT": ["BASELINE", "WEEK 1", "BASELINE", "WEEK 1"], "AVISITN": [0, 1, 0, 1],
    }, numeric=("AVAL", "BASE", "CHG", "PCHG", "ADT", "ADY", "AVISITN"))
    return {"DM": dm, "EX": ex, "LB": lb, "AE": ae, "SUPPAE": suppae, "SV": sv, "TA": ta, "TV": tv,
            "ADSL": adsl, "ADLB": adlb}


EXTRA_LABELS = {"ELEMENT": "Description of Element", "SAFFL": "Safety Population Flag",
                "TRT01P": "Planned Treatment for Period 01", "TRTSDT": "Date of First Exposure to Treatment"}


def label_of(dataset: str, variable: str) -> str:
    sd = sdtmig_table()
    hit = sd[(sd["domain"] == ("SUPPQUAL" if dataset.startswith("SUPP") else dataset)) & (sd["name"] == variable)]
    if len(hit):
        return hit["label"].iloc[0]
    ad = adamig_table()
    hit = ad[ad["name"] == variable]
    if len(hit):
        return hit["label"].iloc[0]
    return EXTRA_LABELS.get(variable, variable.title())


DATASET_LABELS = {"DM": "Demographics", "EX": "Exposure", "LB": "Laboratory Test Results", "AE": "Adverse Events",
                  "SUPPAE": "Supplemental Qualifiers for AE", "SV": "Subject Visits", "TA": "Trial Arms",
                  "TV": "Trial Visits", "ADSL": "Subject-Level Analysis Dataset", "ADLB": "Laboratory Analysis"}


def write_package(folder: Path, frames: dict[str, pd.DataFrame], labels: dict | None = None) -> Path:
    """Write each frame as <name>.xpt (XPT v5) with standard labels; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        column_labels = [(labels or {}).get((name, c), label_of(name, c)) for c in df.columns]
        pyreadstat.write_xport(df, str(folder / f"{name.lower()}.xpt"), file_format_version=5, table_name=name,
                               file_label=DATASET_LABELS.get(name, name), column_labels=column_labels)
    return folder


KEYS = {"DM": ["STUDYID", "USUBJID"], "ADSL": ["STUDYID", "USUBJID"], "SUPPAE": ["STUDYID", "RDOMAIN", "USUBJID",
        "IDVAR", "IDVARVAL", "QNAM"], "TA": ["STUDYID", "ARMCD", "TAETORD"], "TV": ["STUDYID", "VISITNUM"],
        "SV": ["STUDYID", "USUBJID", "VISITNUM"], "ADLB": ["STUDYID", "USUBJID", "PARAMCD", "AVISITN"]}


def write_define(path: Path, frames: dict[str, pd.DataFrame]) -> Path:
    """A minimal Define-XML 2.1 describing ``frames`` exactly (SEX uses CL.SEX with NCI codes)."""
    groups, items = [], []
    for name, df in frames.items():
        keys = KEYS.get(name, ["STUDYID", "USUBJID", f"{name[:2]}SEQ"])
        refs = []
        for order, col in enumerate(df.columns, start=1):
            oid = f"IT.{name}.{col}"
            ks = f' KeySequence="{keys.index(col) + 1}"' if col in keys else ""
            refs.append(f'<ItemRef ItemOID="{oid}" OrderNumber="{order}" Mandatory="No"{ks}/>')
            if df[col].dtype == object:
                length = max([len(str(v)) for v in df[col].dropna()] or [1])
                attrs = f'DataType="text" Length="{length}"'
            else:
                attrs = 'DataType="float" Length="8"'
            cl = '<CodeListRef CodeListOID="CL.SEX"/>' if col == "SEX" else ""
            items.append(f'<ItemDef OID="{oid}" Name="{col}" {attrs}><Description><TranslatedText xml:lang="en">'
                         f'{escape(label_of(name, col))}</TranslatedText></Description>{cl}</ItemDef>')
        purpose = "Analysis" if name.startswith("AD") else "Tabulation"
        groups.append(f'<ItemGroupDef OID="IG.{name}" Name="{name}" Repeating="Yes" Purpose="{purpose}" '
                      f'def:Structure="x"><Description><TranslatedText xml:lang="en">{DATASET_LABELS[name]}'
                      f'</TranslatedText></Description>{"".join(refs)}</ItemGroupDef>')
    codelist = ('<CodeList OID="CL.SEX" Name="Sex" DataType="text">'
                '<CodeListItem CodedValue="F"><Decode><TranslatedText>Female</TranslatedText></Decode>'
                '<Alias Context="nci:ExtCodeID" Name="C16576"/></CodeListItem>'
                '<CodeListItem CodedValue="M"><Decode><TranslatedText>Male</TranslatedText></Decode>'
                '<Alias Context="nci:ExtCodeID" Name="C20197"/></CodeListItem>'
                '<Alias Context="nci:ExtCodeID" Name="C66731"/></CodeList>')
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:def="http://www.cdisc.org/ns/def/v2.1" '
        'ODMVersion="1.3.2" FileType="Snapshot" FileOID="F" CreationDateTime="2024-03-01T00:00:00">'
        '<Study OID="S"><MetaDataVersion OID="MDV" Name="m" def:DefineVersion="2.1.0">'
        + "".join(groups) + "".join(items) + codelist + "</MetaDataVersion></Study></ODM>", encoding="utf-8")
    return path


def stub_ct() -> Terminology:
    lists = [
        ("C66731", "SEX", False, ["F", "M", "U", "UNDIFFERENTIATED"]),
        ("C66742", "NY", False, ["Y", "N", "U", "NA"]),
        ("C66781", "AGEU", False, ["YEARS", "MONTHS", "WEEKS", "DAYS", "HOURS"]),
        ("C74457", "RACE", False, ["WHITE", "ASIAN", "BLACK OR AFRICAN AMERICAN", "OTHER", "UNKNOWN"]),
        ("C66767", "ACN", False, ["DOSE NOT CHANGED", "DOSE REDUCED", "DRUG WITHDRAWN", "NOT APPLICABLE"]),
        ("C71620", "UNIT", True, ["mg", "mmol/L", "umol/L"]),
        ("C99079", "EPOCH", True, ["SCREENING", "TREATMENT", "FOLLOW-UP"]),
        ("C65047", "LBTESTCD", True, ["GLUC", "CREAT"]),
        ("C78736", "NRIND", True, ["NORMAL", "LOW", "HIGH", "ABNORMAL"]),
        ("C142179", "ARMNULRS", True, ["SCREEN FAILURE", "NOT ASSIGNED"]),
        ("C66726", "FRM", True, ["TABLET", "CAPSULE"]),
    ]
    codes = {"F": "C16576", "M": "C20197"}
    return Terminology({code: CodelistTerms(code, short, short.title(), ext, {v: codes.get(v, f"C9{i}") for i, v in enumerate(values)})
                        for code, short, ext, values in lists}, source="stub")
