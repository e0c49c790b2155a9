"""Adverse-event log of the demo study: French verbatims, MedDRA 27.0 coding, planted cases.

Used only by `cdisc.demo.generator`. The PT and SOC codes are MedDRA's; the HLT/HLGT codes are
plausible values for a demo export, not a licensed MedDRA extract.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MEDDRA_VERSION = "MedDRA 27.0"

# key: (verbatims, LLT, LLT code, PT, PT code, HLT, HLT code, HLGT, HLGT code, SOC, SOC code,
#       duration range in days)
TERMS = {
    "headache": (("Céphalées", "Maux de tête", "céphalée"),
                 "Headache", "10019211", "Headache", "10019211",
                 "Headaches NEC", "10019233", "Headaches", "10019231",
                 "Nervous system disorders", "10029205", (1, 3)),
    "isr": (("Réaction au site d'injection", "Réaction locale au point d'injection"),
            "Injection site reaction", "10022095", "Injection site reaction", "10022095",
            "Injection site reactions", "10022096", "Administration site reactions", "10001316",
            "General disorders and administration site conditions", "10018065", (1, 4)),
    "hypoglycaemia": (("Hypoglycémie", "Hypoglycémie modérée"),
                      "Hypoglycaemia", "10021005", "Hypoglycaemia", "10021005",
                      "Hypoglycaemic conditions NEC", "10021001",
                      "Glucose metabolism disorders (incl diabetes mellitus)", "10018424",
                      "Metabolism and nutrition disorders", "10027433", (1, 1)),
    "nasopharyngitis": (("Rhinopharyngite", "Rhinopharyngite aiguë"),
                        "Nasopharyngitis", "10028810", "Nasopharyngitis", "10028810",
                        "Upper respiratory tract infections", "10046309",
                        "Infections - pathogen unspecified", "10021879",
                        "Infections and infestations", "10021881", (4, 10)),
    "hypertension": (("Hypertension artérielle", "HTA"),
                     "Hypertension", "10020772", "Hypertension", "10020772",
                     "Vascular hypertensive disorders NEC", "10020774",
                     "Vascular hypertensive disorders", "10057166",
                     "Vascular disorders", "10047065", (20, 120)),
    "hirsutism": (("Hirsutisme",),
                  "Hirsutism", "10020112", "Hirsutism", "10020112",
                  "Hypertrichoses", "10020865", "Skin appendage conditions", "10040791",
                  "Skin and subcutaneous tissue disorders", "10040785", (60, 200)),
    "tremor": (("Tremblements", "Tremblement des mains"),
               "Tremor", "10044565", "Tremor", "10044565",
               "Tremor (excl congenital)", "10044566", "Movement disorders (incl parkinsonism)",
               "10028037", "Nervous system disorders", "10029205", (10, 50)),
    "nausea": (("Nausées",),
               "Nausea", "10028813", "Nausea", "10028813",
               "Nausea and vomiting symptoms", "10028817", "Gastrointestinal signs and symptoms",
               "10018012", "Gastrointestinal disorders", "10017947", (1, 5)),
    "gingival": (("Hypertrophie gingivale",),
                 "Gingival hypertrophy", "10018291", "Gingival hypertrophy", "10018291",
                 "Gingival disorders, signs and symptoms NEC", "10018278",
                 "Dental and gingival conditions", "10044018",
                 "Gastrointestinal disorders", "10017947", (60, 200)),
    "pyrexia": (("Fièvre",),
                "Fever", "10016558", "Pyrexia", "10037660",
                "Febrile disorders", "10016286", "Body temperature conditions", "10005908",
                "General disorders and administration site conditions", "10018065", (1, 3)),
}
TERM_KEYS = list(TERMS)
CSA_TYPICAL = {"tremor", "hirsutism", "gingival", "hypertension", "nausea"}

# (first day, last day, {term: weight}) of the ciclosporin, IL-2 and follow-up periods
PERIODS = (
    (3, 62, {"tremor": .2, "hirsutism": .12, "gingival": .1, "hypertension": .1, "nausea": .15,
             "headache": .2, "nasopharyngitis": .13}),
    (63, 361, {"isr": .35, "pyrexia": .1, "headache": .2, "nasopharyngitis": .25,
               "hypoglycaemia": .1}),
    (362, 719, {"nasopharyngitis": .5, "headache": .3, "hypoglycaemia": .2}),
)
PERIOD_WEIGHTS = np.array([.35, .45, .20])

AE_ITEMS = ["AETERM", "AESTDAT", "AEENDAT", "AEONGO", "AESEV", "AESER", "AESDTH", "AESLIFE",
            "AESHOSP", "AESDISAB", "AESCONG", "AESMIE", "AEREL_CSA", "AEREL_IL2", "AEACN_IL2",
            "AEOUT", "AETERM_LLT", "AETERM_LLT_CODE", "AETERM_PT", "AETERM_PT_CODE",
            "AETERM_HLT", "AETERM_HLT_CODE", "AETERM_HLGT", "AETERM_HLGT_CODE", "AETERM_SOC",
            "AETERM_SOC_CODE", "AETERM_DICT"]


def _pick(u: float, options) -> str:
    return options[min(int(u * len(options)), len(options) - 1)]


def draw_events(rng, subject_index, treated, last_day, last_injection_day, planted):
    """One dict per AE: subject index, term key, start/end study day, attributes.

    `subject_index`, `treated` (ILT-101 arm), `last_day` (last study day with data) and
    `last_injection_day` are arrays over randomized subjects; `planted` maps 'sae' and
    'ongoing' to the subject index that receives the serious hypoglycaemia and the long
    ongoing hypertension (a block of subjects without them leaves them out).
    """
    counts = np.clip(rng.poisson(1.8, len(subject_index)), 0, 5)
    cases = [planted[case] for case in ("sae", "ongoing") if case in planted]
    counts[cases] = np.minimum(counts[cases], 4)
    owner = np.repeat(np.arange(len(subject_index)), counts)
    u = rng.random((len(owner), 8))
    events = []
    for j, i in enumerate(owner):
        period_w = PERIOD_WEIGHTS.copy()
        for p, (first, _, _) in enumerate(PERIODS):
            if first > last_day[i]:
                period_w[p] = 0.0
        p = int(np.searchsorted(np.cumsum(period_w / period_w.sum()), u[j, 0], side="right"))
        first, last, weights = PERIODS[min(p, 2)]
        last = min(last, int(last_day[i]))
        keys = [k for k in weights if treated[i] or k != "isr"]
        w = np.array([weights[k] for k in keys])
        term = keys[int(np.searchsorted(np.cumsum(w / w.sum()), u[j, 1], side="right").clip(0, len(keys) - 1))]
        start = first + int(u[j, 2] * (last - first + 1))
        lo, hi = TERMS[term][11]
        events.append(dict(i=i, term=term, start=start, end=start + lo - 1 + int(u[j, 3] * (hi - lo + 1)),
                           u_sev=u[j, 4], u_rel=u[j, 5], u_verb=u[j, 6], u_out=u[j, 7],
                           serious=False))
    if "sae" in planted:
        events.append(dict(i=planted["sae"], term="hypoglycaemia", start=int(rng.integers(100, 300)),
                           end=None, u_sev=.99, u_rel=.2, u_verb=0.0, u_out=0.0, serious=True))
        events[-1]["end"] = events[-1]["start"] + 1
    if "ongoing" in planted:
        events.append(dict(i=planted["ongoing"], term="hypertension", start=int(rng.integers(30, 55)),
                           end=10_000, u_sev=.5, u_rel=.9, u_verb=0.0, u_out=0.0, serious=False))
    return [dict(e, **_attributes(e, treated[e["i"]], last_day[e["i"]], last_injection_day[e["i"]]))
            for e in events]


def _attributes(e, treated, last_day, last_injection_day):
    term, start = e["term"], e["start"]
    ongoing = e["end"] > last_day
    sev = "Severe" if e["serious"] else ("Mild" if e["u_sev"] < .7 else "Moderate" if e["u_sev"] < .97 else "Severe")
    if term in CSA_TYPICAL and start <= 70:
        rel_csa = _pick(e["u_rel"], ("Possibly related", "Probably related", "Related"))
    elif start <= 62:
        rel_csa = _pick(e["u_rel"], ("Not related", "Unlikely related", "Possibly related"))
    else:
        rel_csa = "Not related"
    if start < 63:
        rel_il2 = "Not related"
    elif term == "isr":
        rel_il2 = "Related"
    elif term == "pyrexia" and start <= 361:
        rel_il2 = _pick(e["u_rel"], ("Possibly related", "Probably related"))
    elif start <= 361 and not e["serious"]:
        rel_il2 = _pick(e["u_rel"], ("Not related", "Unlikely related", "Possibly related"))
    else:
        rel_il2 = "Unlikely related" if e["serious"] else "Not related"
    acn = "Not applicable" if start < 63 or start > last_injection_day else "Dose not changed"
    if ongoing:
        outcome = "Recovering/Resolving" if e["u_out"] > .8 else "Not recovered/Not resolved"
    else:
        outcome = "Recovered/Resolved"
    verbatim = "Hypoglycémie sévère avec hospitalisation" if e["serious"] else _pick(e["u_verb"], TERMS[term][0])
    return dict(ongoing=ongoing, AETERM=verbatim, AESEV=sev, AEREL_CSA=rel_csa, AEREL_IL2=rel_il2,
                AEACN_IL2=acn, AEOUT=outcome)


def coding_columns(term_keys: pd.Series) -> dict:
    """The coder's MedDRA columns for a series of catalogue keys."""
    names = ["AETERM_LLT", "AETERM_LLT_CODE", "AETERM_PT", "AETERM_PT_CODE", "AETERM_HLT",
             "AETERM_HLT_CODE", "AETERM_HLGT", "AETERM_HLGT_CODE", "AETERM_SOC", "AETERM_SOC_CODE"]
    out = {n: term_keys.map({k: TERMS[k][1 + pos] for k in TERMS}) for pos, n in enumerate(names)}
    out["AETERM_DICT"] = pd.Series(MEDDRA_VERSION, index=term_keys.index)
    return out
