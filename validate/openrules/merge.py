"""Match Datasets: the joins a rule asks for before its check runs.

- another domain on keys (``DM`` on USUBJID): inner join (or left with ``Join Type: left``); clashing
  right-hand variables become ``DM.X``, and ``DM.X`` names in the check select the right-hand value;
- a SUPP-- dataset: its QNAM/QVAL pairs pivoted into variables, joined on USUBJID and IDVAR = IDVARVAL;
- ``Child: true`` from a SUPP--/CO/RELREC record to its parent record (RDOMAIN, USUBJID, IDVAR =
  IDVARVAL), bringing the parent's IDVAR variable alongside;
- RELREC with a wildcard: each record joined with the records RELREC relates it to, whose variables
  are named ``RELREC.**TERM`` (the wildcard replaces the related domain's prefix).

Keys compare as text, so 1.0 matches '1' as in CORE's merges. Every join keeps the record number of
the dataset being checked (column ROW), which is what findings report.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from validate.openrules.frame import ROW, MissingVariable, RuleDataError, join_key
from validate.openrules.loader import MatchDataset

STATIC_KEYS = ["STUDYID", "USUBJID", "APID", "POOLID", "SPDEVID"]
UNPREFIXED = {"STUDYID", "DOMAIN", "USUBJID", "POOLID", "SPDEVID", "APID", "RSUBJID", "RDEVID", "SREL",
              "VISITNUM", "VISIT", "VISITDY", "TAETORD", "EPOCH", "IDVAR", "IDVARVAL", "RDOMAIN", "RELID",
              "RELTYPE", "QNAM", "QVAL", "QLABEL", "QORIG", "QEVAL", "MIDS", "RELMIDS", "MIDSDTC"}


def referenced_names(node, out: set) -> set:
    """Every string a check names (targets and comparators), to rename ``X.VAR`` columns before joins."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("all", "any", "not"):
                referenced_names(value, out)
            elif key in ("name", "value", "within", "ordering"):
                referenced_names(value, out)
    elif isinstance(node, list):
        for item in node:
            referenced_names(item, out)
    elif isinstance(node, str):
        out.add(node)
    return out


def _keyed(df: pd.DataFrame, columns: list[str], names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({n: join_key(df[c]) for n, c in zip(names, columns)}, index=df.index)


def merge_on_keys(left: pd.DataFrame, right: pd.DataFrame, match: MatchDataset, left_prefix: str | None,
                  right_prefix: str | None, referenced: set) -> pd.DataFrame:
    rename = {c: f"{match.name}.{c}" for c in right.columns if f"{match.name}.{c}" in referenced}
    right = right.rename(columns=rename)
    left_keys = [k.replace("--", left_prefix or "", 1) if k.startswith("--") else k for k, _ in match.keys]
    right_keys = [r.replace("--", right_prefix or "", 1) if r.startswith("--") else r for _, r in match.keys]
    for key in left_keys + right_keys:  # a trial design dataset has no USUBJID to match DM on: not applicable
        if key not in left.columns and key in left_keys or key not in right.columns and key in right_keys:
            raise MissingVariable(key)
    tmp = [f"\x00k{i}" for i in range(len(left_keys))]
    lk = pd.concat([left.reset_index(drop=True), _keyed(left.reset_index(drop=True), left_keys, tmp)], axis=1)
    rk = pd.concat([right.reset_index(drop=True), _keyed(right.reset_index(drop=True), right_keys, tmp)], axis=1)
    rk = rk[rk[tmp].notna().all(axis=1)]
    same_keys = [lk_ for lk_, rk_ in zip(left_keys, right_keys) if lk_ == rk_]
    rk = rk.drop(columns=same_keys)  # one copy of a shared key
    merged = lk.merge(rk, how="left" if match.join == "left" else "inner", on=tmp, suffixes=("", f".{match.name}"))
    return merged.drop(columns=tmp).reset_index(drop=True)


def pivot_supp(supp: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """SUPP-- records as wide tables, one per IDVAR: keys, the IDVAR variable (from IDVARVAL), one column per QNAM."""
    out = []
    idvars = supp["IDVAR"] if "IDVAR" in supp.columns else pd.Series([None] * len(supp))
    for idvar in pd.unique(idvars):
        rows = supp[(idvars == idvar) if idvar is not None and not pd.isna(idvar) else idvars.isna()]
        keys = [k for k in STATIC_KEYS if k in rows.columns]
        index = keys + (["IDVARVAL"] if idvar is not None and not pd.isna(idvar) else [])
        keyed = rows[index + ["QNAM", "QVAL"]].copy()
        for k in index:
            keyed[k] = join_key(keyed[k])
        duplicated = keyed.duplicated(subset=index + ["QNAM"])
        if duplicated.any():
            first = keyed[duplicated].iloc[0]
            raise RuleDataError(f"SUPP-- has two {first['QNAM']} records for one parent record "
                                f"({', '.join(f'{k}={first[k]}' for k in index)})")
        wide = keyed.pivot(index=index, columns="QNAM", values="QVAL").reset_index()
        wide.columns.name = None
        if "IDVARVAL" in wide.columns:
            wide = wide.rename(columns={"IDVARVAL": str(idvar)})
        out.append((None if idvar is None or pd.isna(idvar) else str(idvar), wide))
    return out


def merge_supp(left: pd.DataFrame, supp: pd.DataFrame) -> pd.DataFrame:
    result = left.reset_index(drop=True)
    for idvar, wide in pivot_supp(supp):
        keys = [k for k in STATIC_KEYS if k in result.columns and k in wide.columns]
        if idvar is not None:
            if idvar not in result.columns:
                continue
            keys.append(idvar)
        wide = wide.drop(columns=[c for c in wide.columns if c in result.columns and c not in keys])
        tmp = [f"\x00k{i}" for i in range(len(keys))]
        lk = pd.concat([result, _keyed(result, keys, tmp)], axis=1)
        rk = pd.concat([wide.drop(columns=keys), _keyed(wide, keys, tmp)], axis=1)
        result = lk.merge(rk, how="left", on=tmp).drop(columns=tmp).reset_index(drop=True)
    return result


def merge_parent(child: pd.DataFrame, study) -> pd.DataFrame:
    """For SUPP--/CO/RELREC records: the parent's IDVAR variable, where USUBJID and IDVAR = IDVARVAL match."""
    out = child.reset_index(drop=True).copy()
    for column in ("RDOMAIN", "IDVAR", "IDVARVAL"):
        if column not in out.columns:
            return out
    combos = out[["RDOMAIN", "IDVAR"]].dropna().drop_duplicates()
    for rdomain, idvar in combos.itertuples(index=False):
        parent_info = study.find(str(rdomain))
        if parent_info is None:
            continue
        parent = study.datasets[parent_info.name]
        rows = np.flatnonzero(((out["RDOMAIN"] == rdomain) & (out["IDVAR"] == idvar)).to_numpy(dtype=bool))
        if idvar not in parent.columns:  # IDVAR names no variable of the parent: nothing to match
            if idvar not in out.columns:
                out[idvar] = pd.Series([None] * len(out), dtype=object)
            continue
        keys = ["USUBJID"] if "USUBJID" in parent.columns and "USUBJID" in out.columns else []
        left = _keyed(out.iloc[rows], keys + ["IDVARVAL"], keys + ["\x00v"])
        right = _keyed(parent, keys + [idvar], keys + ["\x00v"]).assign(_value=parent[idvar].to_numpy())
        right = right.dropna(subset=["\x00v"]).drop_duplicates(subset=keys + ["\x00v"])
        found = left.reset_index(drop=True).merge(right, on=keys + ["\x00v"], how="left")["_value"].to_numpy()
        if idvar not in out.columns:
            out[idvar] = pd.Series([None] * len(out), dtype=object)
        column = out[idvar].astype(object).to_numpy(copy=True)
        column[rows] = found
        out[idvar] = column
    return out


def _wildcard_names(columns, domain: str, wildcard: str) -> dict:
    names = {}
    for column in columns:
        if column == ROW:
            continue
        if column not in UNPREFIXED and column.startswith(domain) and len(column) > len(domain):
            names[column] = f"RELREC.{wildcard}{column[len(domain):]}"
        else:
            names[column] = f"RELREC.{column}"
    return names


def merge_relrec(left: pd.DataFrame, domain: str, study, wildcard: str) -> pd.DataFrame:
    """Each record joined with the records RELREC relates it to (their variables renamed with the wildcard)."""
    info = study.find("RELREC")
    if info is None:
        return left.iloc[0:0]
    relrec = study.datasets[info.name]
    needed = {"USUBJID", "RELID", "RDOMAIN", "IDVAR", "IDVARVAL"}
    if not needed <= set(relrec.columns):
        raise RuleDataError(f"RELREC lacks {sorted(needed - set(relrec.columns))}")
    mine = relrec[relrec["RDOMAIN"] == domain]
    others = relrec[relrec["RDOMAIN"] != domain]
    on = [c for c in ("STUDYID", "USUBJID", "RELID") if c in relrec.columns]
    pairs = mine.merge(others, on=on, suffixes=("_LEFT", "_RIGHT"))
    if pairs.empty:
        return left.iloc[0:0]
    left = left.reset_index(drop=True)
    pieces = []
    pairs = pairs.assign(_byvalue=pairs["IDVARVAL_LEFT"].notna() & pairs["IDVARVAL_RIGHT"].notna())
    for (rdomain, idvar_l, idvar_r, byvalue), group in pairs.groupby(
            ["RDOMAIN_RIGHT", "IDVAR_LEFT", "IDVAR_RIGHT", "_byvalue"], dropna=False, sort=False):
        right_info = study.find(str(rdomain))
        if right_info is None or idvar_l not in left.columns:
            continue
        right = study.datasets[right_info.name]
        if idvar_r not in right.columns:
            continue
        right_domain = right_info.domain_cleaned or str(rdomain)
        renamed = right.rename(columns=_wildcard_names(right.columns, right_domain, wildcard))
        if byvalue:  # record to record; a RELREC pair without USUBJID relates the records of every subject
            lkey = _keyed(left, ["USUBJID", idvar_l], ["\x00u", "\x00v"])
            links = _keyed(group, ["USUBJID", "IDVARVAL_LEFT", "IDVARVAL_RIGHT"], ["\x00u", "\x00v", "\x00w"])
            with_subject = links[links["\x00u"].notna()]
            without = links[links["\x00u"].isna()].drop(columns=["\x00u"])
            linked = pd.concat([pd.concat([left, lkey], axis=1).merge(with_subject, on=["\x00u", "\x00v"]),
                                pd.concat([left, lkey], axis=1).merge(without, on=["\x00v"])], ignore_index=True)
            rkey = _keyed(right, ["USUBJID", idvar_r], ["\x00u", "\x00w"])
            joined = linked.merge(pd.concat([renamed, rkey], axis=1), on=["\x00u", "\x00w"])
        else:
            # a relation by variable (IDVARVAL blank), for some subjects or, with USUBJID blank, for all
            lkey = _keyed(left, ["USUBJID", idvar_l], ["\x00u", "\x00v"])
            rkey = _keyed(right, ["USUBJID", idvar_r], ["\x00u", "\x00v"])
            linked = pd.concat([left, lkey], axis=1)
            if not group["USUBJID"].isna().any():
                linked = linked.merge(_keyed(group, ["USUBJID"], ["\x00u"]).drop_duplicates(), on=["\x00u"])
            joined = linked.merge(pd.concat([renamed, rkey], axis=1), on=["\x00u", "\x00v"])
        pieces.append(joined.drop(columns=[c for c in joined.columns if str(c).startswith("\x00")]))
    if not pieces:
        return left.iloc[0:0]
    return pd.concat(pieces, ignore_index=True)


def apply_matches(study, df: pd.DataFrame, rule, referenced: set) -> pd.DataFrame:
    current = study.current
    for match in rule.match_datasets:
        name = match.name
        if match.child:
            if current.is_supp or current.name in ("CO", "RELREC") or current.domain in ("CO",):
                df = merge_parent(df, study)
            continue
        if name == "RELREC" and not match.keys:
            df = merge_relrec(df, current.domain_cleaned or current.name, study, match.wildcard)
            continue
        if name in (current.domain, current.name, current.unsplit_name):
            continue  # a split dataset of the same domain
        found = study.find(name)
        if found is None:
            continue
        right = study.datasets[found.name]
        if found.is_supp:
            df = merge_supp(df, right)
        else:
            df = merge_on_keys(df, right, match, current.domain_cleaned, found.domain_cleaned, referenced)
    return df.reset_index(drop=True)
