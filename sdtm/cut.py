"""Data cuts: keep exactly the data known up to a cut date, and log every record removed or changed.

The cut applies to the mapped records, before any derivation (see ``sdtm.engine.build_sdtm``), so that
DM's reference dates, SE, epochs, study days and sequence numbers are derived from what remains.
Rules per domain are in the spec (``cut:`` of a domain in sdtm.yaml; the subjects' entry date in
study.yaml ``cut.entry``); a domain without ``cut`` is left as it is, except that the records of
subjects who entered the study after their cut date are removed from every dataset with USUBJID.

Dates are compared on their date part (a record at 2024-06-30T15:00 is inside a cut at 2024-06-30).
A partial date goes only when it is clearly after the cut: the earliest date it can be is after the
cut ('2024-07' vs 2024-06-30 goes, '2024-06' and '2024' stay); an empty date stays.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from specs.conditions import ConditionError, parse_condition
from specs.errors import Problem, RawDataError, SpecError

# visit_in (findings, events, exposure): a record collected at a visit must keep that visit in the
# named domain (usually SV) after the cut; data collected at a visit after the cut is not yet in the
# database at the cut, even when it is dated before it (e.g. a diary handed in at the next visit).
RULES = {
    "subjects": {"required": set(), "optional": set()},
    "findings": {"required": {"date"}, "optional": {"visit_in"}},
    "events": {"required": {"start"}, "optional": {"end", "ongoing", "visit_in"}},
    "exposure": {"required": {"start", "end"}, "optional": {"visit_in", "open_end", "ongoing"}},
}
# exposure: an interval that goes on past the cut ends at the cut date ('cut'), or has no end yet ('empty',
# as the database showed it at the cut: the last dose known is then its start, DM.RFXENDTC reads EXSTDTC too)
OPEN_END = ("cut", "empty")
LOG_COLUMNS = ["domain", "source", "row", "key", "usubjid", "action", "variable", "old", "new", "reason"]
CUT_FILE_COLUMNS = ["USUBJID", "DCUTDTC"]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _valid_iso_date(text) -> bool:
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        return False
    return not pd.isna(pd.to_datetime(text, format="%Y-%m-%d", errors="coerce"))


@dataclass
class DataCut:
    """A cut date for all subjects (``date``) and/or per subject (``per_subject``: USUBJID -> date).

    A subject's own date overrides ``date``. With ``per_subject`` and no ``date``, a subject not listed
    has no cut date and is left out of the cut (logged as such).
    """

    date: str | None = None
    per_subject: dict[str, str] | None = None
    description: str = ""

    def __post_init__(self):
        problems = []
        if self.date is None and not self.per_subject:
            problems.append(Problem("data cut", "neither a cut date nor a cut date per subject"))
        if self.date is not None and not _valid_iso_date(self.date):
            problems.append(Problem("data cut", f"'{self.date}' is not an ISO 8601 date (YYYY-MM-DD)"))
        for subject, date in sorted((self.per_subject or {}).items()):
            if not _valid_iso_date(date):
                problems.append(Problem(f"data cut, subject {subject}",
                                        f"'{date}' is not an ISO 8601 date (YYYY-MM-DD)"))
        if problems:
            raise RawDataError(problems)

    def subject_dates(self, usubjid: pd.Series) -> pd.Series:
        """The cut date of each subject ('' when the subject has none)."""
        default = self.date or ""
        if not self.per_subject:
            return pd.Series(default, index=usubjid.index, dtype=object)
        own = usubjid.map(self.per_subject)
        return own.where(own.notna(), default).astype(object)

    def to_dict(self) -> dict:
        """For the manifest and the cut report (sorted, so always the same bytes)."""
        return {"date": self.date, "description": self.description,
                "per_subject": dict(sorted(self.per_subject.items())) if self.per_subject else None}

    def label(self) -> str:
        if self.date and not self.per_subject:
            return self.date
        n = len(self.per_subject or {})
        return f"{self.date or 'none'} (default), {n} subject(s) with their own date"


def read_cut_file(path) -> DataCut:
    """A per-subject cut from a CSV ``USUBJID,DCUTDTC[,DCUTDESC]`` (one row per subject).

    Every problem is reported at once with the file, the row (line in the file, the header is line 1)
    and the value. DCUTDESC values, when given, become the cut's description.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise RawDataError([Problem(str(path), "cut file not found")]) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RawDataError([Problem(str(path), f"not a readable CSV file ({exc})")]) from None
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in CUT_FILE_COLUMNS if c not in frame.columns]
    if missing:
        raise RawDataError([Problem(str(path), f"column(s) {', '.join(missing)} missing (columns: "
                                               f"{', '.join(frame.columns)}; expected USUBJID,DCUTDTC[,DCUTDESC])")])
    subject = frame["USUBJID"].str.strip()
    date = frame["DCUTDTC"].str.strip()
    line = pd.Series(np.arange(len(frame)) + 2, index=frame.index)
    valid_date = date.str.fullmatch(_ISO_DATE.pattern) & pd.to_datetime(date, format="%Y-%m-%d",
                                                                         errors="coerce").notna()
    problems = [Problem(f"{path} row {r}", "USUBJID is empty") for r in line[subject == ""]]
    problems += [Problem(f"{path} row {r}", f"DCUTDTC '{v}' is not an ISO 8601 date (YYYY-MM-DD)")
                 for r, v in zip(line[~valid_date], date[~valid_date])]
    repeated = subject.duplicated(keep="first") & (subject != "")
    problems += [Problem(f"{path} row {r}", f"USUBJID '{s}' appears more than once")
                 for r, s in zip(line[repeated], subject[repeated])]
    if frame.empty:
        problems.append(Problem(str(path), "no subject in the cut file"))
    if problems:
        raise RawDataError(problems)
    descriptions = []
    if "DCUTDESC" in frame.columns:
        descriptions = list(dict.fromkeys(d for d in frame["DCUTDESC"].str.strip() if d))
    return DataCut(date=None, per_subject=dict(zip(subject, date)), description="; ".join(descriptions))


# --- dates ------------------------------------------------------------------------------------------

def earliest_date(dtc: pd.Series) -> pd.Series:
    """The earliest calendar date an ISO 8601 value can be, as 'YYYY-MM-DD' text ('' when unknown).

    '2024-07' -> '2024-07-01', '2024' -> '2024-01-01', '2024---15' -> '2024-01-15',
    '2024-07-03T10:00' -> '2024-07-03'.
    """
    text = dtc.fillna("").astype(str).str.strip()
    year, month, day = text.str[:4], text.str[5:7], text.str[8:10]
    out = pd.Series("", index=text.index, dtype=object)
    out = out.mask(text.str.fullmatch(r"\d{4}"), year + "-01-01")
    out = out.mask(text.str.fullmatch(r"\d{4}-\d{2}"), year + "-" + month + "-01")
    out = out.mask(text.str.fullmatch(r"\d{4}---\d{2}.*"), year + "-01-" + text.str[7:9])
    out = out.mask(text.str.match(r"\d{4}-\d{2}-\d{2}"), year + "-" + month + "-" + day)
    return out.astype(object)


def latest_date(dtc: pd.Series) -> pd.Series:
    """The latest calendar date an ISO 8601 value can be ('2024-06' -> '2024-06-30'; '' when unknown)."""
    text = dtc.fillna("").astype(str).str.strip()
    year, month = text.str[:4], text.str[5:7]
    is_month = text.str.fullmatch(r"\d{4}-\d{2}")
    month_start = pd.to_datetime((year + "-" + month + "-01").where(is_month), format="%Y-%m-%d", errors="coerce")
    month_end = (month_start + pd.offsets.MonthEnd(0)).dt.strftime("%Y-%m-%d")
    out = pd.Series("", index=text.index, dtype=object)
    out = out.mask(text.str.fullmatch(r"\d{4}"), year + "-12-31")
    out = out.mask(is_month, month_end)
    out = out.mask(text.str.fullmatch(r"\d{4}---\d{2}.*"), year + "-12-" + text.str[7:9])
    out = out.mask(text.str.match(r"\d{4}-\d{2}-\d{2}"), text.str[:10])
    return out.fillna("").astype(object)


def clearly_after(dtc: pd.Series, cut_dates: pd.Series) -> pd.Series:
    """True where the value cannot be on or before the subject's cut date (never for empty values)."""
    earliest = earliest_date(dtc)
    return (earliest != "") & (cut_dates != "") & (earliest > cut_dates)


def possibly_after(dtc: pd.Series, cut_dates: pd.Series) -> pd.Series:
    """True where the value may be after the subject's cut date (a partial date spanning it counts)."""
    latest = latest_date(dtc)
    return (latest != "") & (cut_dates != "") & (latest > cut_dates)


# --- the log ----------------------------------------------------------------------------------------

def empty_log() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in LOG_COLUMNS})


def _log_rows(domain: str, data: pd.DataFrame, mask: pd.Series, action: str, variable: str,
              old, new, reason) -> pd.DataFrame:
    """Log rows for the records of ``data`` where mask holds; old/new/reason are scalars or Series."""
    picked = data[mask]

    def column(value):
        if isinstance(value, pd.Series):
            return value[mask].fillna("").astype(str).to_numpy(dtype=object)
        return np.full(len(picked), "" if value is None else str(value), dtype=object)

    def located(name):
        if name in picked:
            return picked[name].fillna("").astype(str).to_numpy(dtype=object)
        return np.full(len(picked), "", dtype=object)

    return pd.DataFrame({
        "domain": np.full(len(picked), domain, dtype=object),
        "source": located("__file"),
        "row": located("__row"),
        "key": located("__key"),
        "usubjid": located("USUBJID"),
        "action": np.full(len(picked), action, dtype=object),
        "variable": np.full(len(picked), variable, dtype=object),
        "old": column(old),
        "new": column(new),
        "reason": column(reason),
    })


# --- subjects ---------------------------------------------------------------------------------------

def subject_entry_dates(datasets: dict[str, pd.DataFrame], entry: list[dict], problems: list[Problem]
                        ) -> pd.Series:
    """Each subject's entry date: the first date found along ``entry`` (earliest record of a source)."""
    found = pd.Series(dtype=object)
    for i, source in enumerate(entry):
        where = f"study.yaml: cut.entry[{i}]"
        data = datasets.get(source["domain"])
        if data is None:
            problems.append(Problem(where, f"domain '{source['domain']}' is not mapped"))
            continue
        if source["variable"] not in data or "USUBJID" not in data:
            problems.append(Problem(where, f"'{source['variable']}' or USUBJID is not a variable of "
                                           f"{source['domain']}"))
            continue
        if source.get("where"):
            try:
                data = data[parse_condition(source["where"]).evaluate(data)]
            except ConditionError as exc:
                problems.append(Problem(f"{where}.where", str(exc)))
                continue
        dates = earliest_date(data[source["variable"]])
        known = dates != ""
        first = pd.Series(dates[known].to_numpy(), index=data.loc[known, "USUBJID"].to_numpy()
                          ).groupby(level=0, sort=True).min()
        found = pd.concat([found, first[~first.index.isin(found.index)]])
    return found.astype(object)


def excluded_subjects(datasets: dict[str, pd.DataFrame], study_cut: dict, cut: DataCut,
                      problems: list[Problem]) -> pd.DataFrame:
    """Subjects left out of the cut: columns USUBJID, reason (one row per subject, sorted)."""
    subjects = pd.Series(sorted({s for d in datasets.values() if "USUBJID" in d
                                 for s in d["USUBJID"].dropna().astype(str).unique()}), dtype=object)
    cut_dates = cut.subject_dates(subjects)
    no_date = cut_dates == ""
    reasons = pd.Series("", index=subjects.index, dtype=object)
    reasons = reasons.mask(no_date, "subject has no cut date (not in the cut file)")
    entry = study_cut.get("entry") or []
    if entry:
        entry_dates = subjects.map(subject_entry_dates(datasets, entry, problems)).astype(object)
        entry_dates = entry_dates.where(entry_dates.notna(), "")
        late = (entry_dates != "") & ~no_date & (entry_dates > cut_dates)
        reasons = reasons.mask(late, "subject entered after the cut (entry " + entry_dates + ", cut "
                               + cut_dates + ")")
    out = pd.DataFrame({"USUBJID": subjects, "reason": reasons})
    return out[out["reason"] != ""].reset_index(drop=True)


# --- the rules --------------------------------------------------------------------------------------

def _check_rule(name: str, rule: dict, data: pd.DataFrame) -> list[Problem]:
    where = f"sdtm.yaml: domains.{name}.cut"
    kind = rule.get("rule")
    if kind not in RULES:
        return [Problem(f"{where}.rule", f"unknown cut rule '{kind}' (known: {', '.join(RULES)})")]
    known = RULES[kind]["required"] | RULES[kind]["optional"] | {"rule"}
    problems = [Problem(where, f"'{k}' is not an option of the {kind} rule") for k in sorted(set(rule) - known)]
    problems += [Problem(where, f"the {kind} rule needs '{k}'") for k in sorted(RULES[kind]["required"] - set(rule))]
    for option in ("date", "start", "end"):
        if option in rule and rule[option] not in data:
            problems.append(Problem(f"{where}.{option}", f"'{rule[option]}' is not a variable of {name}"))
    for variable in rule.get("ongoing") or {}:
        if variable not in data:
            problems.append(Problem(f"{where}.ongoing", f"'{variable}' is not a variable of {name}"))
    if rule.get("open_end", "cut") not in OPEN_END:
        problems.append(Problem(f"{where}.open_end", f"'{rule['open_end']}' is not one of {', '.join(OPEN_END)}"))
    if kind != "subjects" and "USUBJID" not in data:
        problems.append(Problem(where, f"{name} has no USUBJID, a {kind} cut needs one"))
    return problems


def cut_findings(name: str, data: pd.DataFrame, rule: dict, cut_dates: pd.Series):
    date = rule["date"]
    after = clearly_after(data[date], cut_dates)
    log = _log_rows(name, data, after, "removed", date, data[date], "",
                    date + " after the cut (" + cut_dates + ")")
    return data[~after], log


def cut_events(name: str, data: pd.DataFrame, rule: dict, cut_dates: pd.Series):
    start, end = rule["start"], rule.get("end")
    after = clearly_after(data[start], cut_dates)
    logs = [_log_rows(name, data, after, "removed", start, data[start], "",
                      start + " after the cut (" + cut_dates + ")")]
    data, cut_dates = data[~after].copy(), cut_dates[~after]
    if end:
        spans = possibly_after(data[end], cut_dates)
        reason = (end + " after the cut (" + cut_dates + "): ongoing at the cut").where(
            clearly_after(data[end], cut_dates),
            end + " possibly after the cut (" + cut_dates + "): ongoing at the cut")
        logs.append(_log_rows(name, data, spans, "changed", end, data[end], "", reason))
        data[end] = data[end].mask(spans, "")
        # every event without an end at the cut is ongoing at the cut: what the rule sets (outcome, end
        # reference point) holds for those the cut made ongoing and for those that were never ended alike
        open_events = data[end].fillna("").astype(str) == ""
        reason = reason.where(spans, "no " + end + ": ongoing at the cut (" + cut_dates + ")")
        for variable, value in (rule.get("ongoing") or {}).items():
            new = _fill_cut(str(value), cut_dates)
            changed = open_events & (data[variable].fillna("").astype(str) != new)
            logs.append(_log_rows(name, data, changed, "changed", variable, data[variable], new, reason))
            data[variable] = data[variable].astype(object).mask(open_events, new)
    return data, pd.concat(logs, ignore_index=True)


def cut_exposure(name: str, data: pd.DataFrame, rule: dict, cut_dates: pd.Series):
    start, end = rule["start"], rule["end"]
    after = clearly_after(data[start], cut_dates)
    logs = [_log_rows(name, data, after, "removed", start, data[start], "",
                      start + " after the cut (" + cut_dates + ")")]
    data, cut_dates = data[~after].copy(), cut_dates[~after]
    beyond = possibly_after(data[end], cut_dates)
    empty = rule.get("open_end", "cut") == "empty"
    what = "no end yet at the cut (" + cut_dates + ")" if empty else "truncated at the cut (" + cut_dates + ")"
    reason = (end + " after the cut: " + what).where(
        clearly_after(data[end], cut_dates), end + " possibly after the cut (partial date): " + what)
    new_end = pd.Series("", index=data.index, dtype=object) if empty else cut_dates
    logs.append(_log_rows(name, data, beyond, "changed", end, data[end], new_end, reason))
    data[end] = data[end].astype(object).mask(beyond, new_end)
    for variable, value in (rule.get("ongoing") or {}).items():  # the end reference of an open interval
        new = _fill_cut(str(value), cut_dates)
        logs.append(_log_rows(name, data, beyond, "changed", variable, data[variable], new, reason))
        data[variable] = data[variable].astype(object).mask(beyond, new)
    return data, pd.concat(logs, ignore_index=True)


def _fill_cut(template: str, cut_dates: pd.Series) -> pd.Series:
    """'{cut}' in a spec value replaced by each record's cut date ('ONGOING' stays as it is)."""
    parts = template.split("{cut}")
    out = pd.Series(parts[0], index=cut_dates.index, dtype=object)
    for part in parts[1:]:
        out = out + cut_dates + part
    return out.astype(object)


CUT_RULES = {"findings": cut_findings, "events": cut_events, "exposure": cut_exposure}


def apply_cut(datasets: dict[str, pd.DataFrame], domains: dict, study_cut: dict, cut: DataCut
              ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Mapped datasets -> (the datasets as at the cut, the log of every record removed or changed).

    Pure: the input frames are not modified. Raises SpecError listing every problem with the rules.
    """
    problems: list[Problem] = []
    for name, raw in domains.items():
        if raw.get("cut") and name in datasets:
            problems += _check_rule(name, raw["cut"], datasets[name])
    excluded = excluded_subjects(datasets, study_cut or {}, cut, problems)
    if problems:
        raise SpecError(problems)
    reasons = dict(zip(excluded["USUBJID"], excluded["reason"]))
    out, logs = {}, []
    for name, data in datasets.items():
        if "USUBJID" in data:
            gone = data["USUBJID"].isin(excluded["USUBJID"])
            logs.append(_log_rows(name, data, gone, "removed", "", "", "", data["USUBJID"].map(reasons)))
            data = data[~gone]
        rule = (domains.get(name) or {}).get("cut")
        if rule and rule["rule"] in CUT_RULES:
            data, log = CUT_RULES[rule["rule"]](name, data, rule, cut.subject_dates(data["USUBJID"]))
            logs.append(log)
        out[name] = data.copy()
    for name, data in list(out.items()):
        visits_of = ((domains.get(name) or {}).get("cut") or {}).get("visit_in")
        if visits_of and visits_of in out and "VISITNUM" in data:
            out[name], log = cut_by_visit(name, data, out[visits_of], visits_of)
            logs.append(log)
    logs = [log for log in logs if not log.empty]
    log = pd.concat(logs, ignore_index=True) if logs else empty_log()
    return out, log[LOG_COLUMNS]


def cut_by_visit(name: str, data: pd.DataFrame, visits: pd.DataFrame, visits_of: str):
    """Records whose (USUBJID, VISITNUM) is no longer in the visits domain go (visit after the cut)."""
    kept = pd.MultiIndex.from_frame(visits[["USUBJID", "VISITNUM"]].astype(object))
    here = pd.MultiIndex.from_frame(data[["USUBJID", "VISITNUM"]].astype(object))
    gone = pd.Series(~here.isin(kept), index=data.index) & data["VISITNUM"].notna()
    log = _log_rows(name, data, gone, "removed", "VISITNUM", data["VISITNUM"].astype(str), "",
                    "collected at a visit after the cut (not in " + visits_of + ")")
    return data[~gone].copy(), log
