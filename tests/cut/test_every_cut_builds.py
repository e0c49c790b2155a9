"""Every cut date from the first informed consent to after the last visit builds: SDTM, ADaM and both
define.xml models at the boundaries of the demo study (read from its data), and the whole package, written
and validated, for a cut that leaves no subject in the study."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from adam.build import build_adam
from adam.spec import load_adam_spec
from cdisc.pipeline import Progress, adam_spec_path, dcut_frame, run
from define.adapters import from_adam, from_sdtm
from sdtm.cut import DataCut
from sdtm.engine import build_sdtm


def day(text: str, shift: int = 0) -> str:
    return (date.fromisoformat(text[:10]) + timedelta(days=shift)).isoformat()


@pytest.fixture(scope="module")
def boundaries(demo_sdtm):
    datasets = demo_sdtm[2].datasets
    ds = datasets["DS"]
    first_consent = datasets["DM"]["RFICDTC"].replace("", None).dropna().min()
    first_randomization = ds.loc[ds["DSDECOD"] == "RANDOMIZED", "DSSTDTC"].min()
    last_visit = datasets["SV"]["SVSTDTC"].replace("", None).dropna().max()
    middle = date.fromisoformat(first_randomization[:10]) + (date.fromisoformat(last_visit[:10])
                                                              - date.fromisoformat(first_randomization[:10])) / 2
    return {"first consent": day(first_consent), "day before the first randomization": day(first_randomization, -1),
            "first randomization": day(first_randomization), "day after it": day(first_randomization, 1),
            "middle": middle.isoformat(), "last visit": day(last_visit), "day after the last visit": day(last_visit, 1)}


@pytest.mark.parametrize("moment", ["first randomization", "day after it", "middle", "last visit",
                                    "day after the last visit"])
def test_a_cut_at_each_boundary_builds_sdtm_adam_and_define(demo_sdtm, boundaries, moment):
    spec, raw, _ = demo_sdtm
    from specs.study_ct import study_ct

    ct = study_ct(spec)
    cut = DataCut(date=boundaries[moment])
    result = build_sdtm(spec, raw.tables, ct, cut=cut)
    from_sdtm(spec, result, ct)
    adam_spec = load_adam_spec(adam_spec_path(None))
    sdtm = dict(result.datasets)
    sdtm["DCUT"] = dcut_frame(sdtm["DM"]["USUBJID"], cut)
    adam = build_adam(sdtm, adam_spec)
    from_adam(adam_spec, adam, spec.study, ct)
    assert len(result.datasets["DM"]) > 0 and len(adam["ADSL"]) > 0
    dates = result.datasets["DM"]["RFICDTC"].str[:10]
    assert (dates[dates != ""] <= cut.date).all()


def test_a_cut_that_leaves_no_subject_builds_the_whole_package(boundaries, tmp_path):
    assert boundaries["first consent"] < boundaries["day before the first randomization"]
    stream = io.StringIO()
    result = run(out_dir=tmp_path / "out", cut=DataCut(date=boundaries["first consent"]), progress=Progress(False),
                 stream=stream)
    folder = tmp_path / "out" / "cuts" / boundaries["first consent"]
    assert result.sdtm.datasets["DM"].empty and all(frame.empty for frame in result.adam.values())
    assert result.validation_errors == 0
    assert (folder / "m5" / "datasets" / "nct05153070" / "tabulations" / "sdtm" / "define.xml").is_file()
    assert (folder / "m5" / "datasets" / "nct05153070" / "analysis" / "adam" / "datasets" / "adsl.xpt").is_file()
    assert f"note: the cut {boundaries['first consent']} leaves no subject in the study" in stream.getvalue()
