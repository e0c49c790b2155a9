"""cdisc run refuses a truncated raw XPT source: one message naming the file and what is missing, exit 1,
no output changed."""
import shutil

import pandas as pd
import pyreadstat

from cdisc.cli import main
from cdisc.pipeline import builtin_raw_dir
from specs.loader import builtin_spec_dir


def test_truncated_raw_xpt_stops_the_run(tmp_path, monkeypatch, capsys):
    spec, raw, out = tmp_path / "spec", tmp_path / "raw", tmp_path / "out"
    shutil.copytree(builtin_spec_dir(), spec)
    shutil.copytree(builtin_raw_dir(), raw, ignore=shutil.ignore_patterns("*.xml"))
    vs = pd.read_csv(raw / "edc" / "vs.csv", dtype=str, keep_default_na=False)
    xpt = raw / "edc" / "vs.xpt"  # the VS form as a SAS session would send it: XPT v8 (long names)
    pyreadstat.write_xport(vs, str(xpt), file_format_version=8, table_name="VS")
    (raw / "edc" / "vs.csv").unlink()
    study = spec / "study.yaml"
    study.write_text(study.read_text(encoding="utf-8").replace("path: edc/vs.csv", "path: edc/vs.xpt"), encoding="utf-8")
    whole = xpt.read_bytes()
    xpt.write_bytes(whole[:len(whole) // 2 // 80 * 80])  # cut on an 80-byte boundary: v8 states the count
    (out / "sdtm").mkdir(parents=True)
    (out / "sdtm" / "previous.txt").write_text("an earlier run")
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--spec", str(spec), "--raw", str(raw), "--out", str(out), "--sdtm-only"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (f"error: 1 raw data error:\n  {xpt}: truncated SAS XPORT file: the OBSV8 header declares 239 "
                   f"observations of 54 bytes (12,906 bytes), the data section (5,120 bytes from byte 2,720) holds "
                   f"94 whole records of 54 bytes and 44 bytes of a partial record\n"
                   f"nothing was published: {out.name} is as it was\n")
    assert "Traceback" not in err
    assert [p.name for p in (out / "sdtm").iterdir()] == ["previous.txt"]
