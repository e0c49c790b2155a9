"""The escape hatch: a study's own algorithms in a module of its spec folder, declared in study.yaml."""
import shutil
from pathlib import Path

import pandas as pd
import pytest

from define.adapters import describe_map
from sdtm.algorithms import MapContext, run_map
from specs.errors import DataError, SpecError
from specs.loader import builtin_spec_dir, load_study_spec
from specs.vocabulary import ALGORITHMS, use_study_algorithms

PLUGIN = '''
import pandas as pd

from specs.plugins import derive_algorithm, map_algorithm


@map_algorithm(required=("source",), optional=("width",), description="Site number {source} padded with zeros.")
def derive_site_padded(raw, args, ctx):
    return raw[args["source"]].astype(str).str.zfill(int(args.get("width", 3)))


@derive_algorithm(required=("birth",), stage=31)
def derive_birth_year(data, args, ctx):
    """Year of birth from the ISO 8601 birth date."""
    return pd.to_numeric(data[args["birth"]].astype(str).str[:4], errors="coerce")


def helper_not_registered(x):
    return x
'''


@pytest.fixture()
def spec(spec):
    yield spec
    use_study_algorithms({})  # no study's names for the tests that follow


def declare(folder, plugins: str, module: str | None = PLUGIN, name: str = "my_algorithms.py"):
    study = folder / "study.yaml"
    study.write_text(study.read_text(encoding="utf-8").replace("study:\n", f"plugins: {plugins}\nstudy:\n", 1),
                     encoding="utf-8")
    if module is not None:
        (folder / name).write_text(module, encoding="utf-8")


def use(folder, old: str, new: str):
    sdtm = folder / "sdtm.yaml"
    text = sdtm.read_text(encoding="utf-8")
    assert old in text
    sdtm.write_text(text.replace(old, new, 1), encoding="utf-8")


SITEID = "{name: SITEID, origin: {type: Collected, source: Sponsor}, map: {algorithm: assign_no_ct, source: SiteNumber}}"


def test_a_declared_plugin_registers_its_algorithms_by_name(spec):
    declare(spec, "[my_algorithms.py]")
    use(spec, SITEID, "{name: SITEID, map: {algorithm: derive_site_padded, source: SiteNumber, width: 4}}")
    loaded = load_study_spec(spec)
    assert sorted(loaded.plugins) == ["derive_birth_year", "derive_site_padded"]
    site = ALGORITHMS["derive_site_padded"]
    assert (site.kind, site.required, site.optional, site.origin) == ("map", ("source",), ("width",), "Derived")
    assert ALGORITHMS["derive_birth_year"].stage == 31
    # the same signature as the built-ins: run by name like them
    raw = pd.DataFrame({"SiteNumber": ["7", "12"], "__file": "dm.csv", "__row": [2, 3], "__key": ["a", "b"]})
    ctx = MapContext("X", "DM", "SITEID", None, None, [], [])
    assert list(run_map(raw, {"algorithm": "derive_site_padded", "source": "SiteNumber", "width": 4}, ctx)) == \
        ["0007", "0012"]
    # named in define.xml's method text
    assert describe_map({"algorithm": "derive_site_padded", "source": "SiteNumber"}) == \
        "Site number SiteNumber padded with zeros. (study algorithm derive_site_padded, my_algorithms.py)"
    assert describe_map({"algorithm": "derive_birth_year", "birth": "BRTHDTC"}) == \
        "Year of birth from the ISO 8601 birth date. (study algorithm derive_birth_year, my_algorithms.py)"
    # another spec loaded: its names only
    load_study_spec(builtin_spec_dir())
    assert "derive_site_padded" not in ALGORITHMS


def test_an_undeclared_module_is_never_loaded(spec):
    (spec / "my_algorithms.py").write_text("raise SystemExit('must not run')\n", encoding="utf-8")
    use(spec, SITEID, "{name: SITEID, map: {algorithm: derive_site_padded, source: SiteNumber}}")
    with pytest.raises(SpecError) as error:
        load_study_spec(spec)
    assert str(error.value.problems[0]).startswith(
        "spec/sdtm.yaml: domains.DM.variables[12].map.algorithm: unknown algorithm 'derive_site_padded' (known: ")
    assert str(error.value.problems[0]).endswith(
        "see docs/spec-reference.md#algorithms)")


def test_plugin_arguments_are_checked_as_the_built_ins(spec):
    declare(spec, "[my_algorithms.py]")
    use(spec, SITEID, "{name: SITEID, map: {algorithm: derive_site_padded, sourse: SiteNumber}}")
    with pytest.raises(SpecError) as error:
        load_study_spec(spec)
    assert [str(p) for p in error.value.problems] == [
        "spec/sdtm.yaml: domains.DM.variables[12].map: 'derive_site_padded' needs the argument 'source'",
        "spec/sdtm.yaml: domains.DM.variables[12].map.sourse: 'derive_site_padded' takes no argument 'sourse' "
        "(it takes: source, width)"]


def test_bad_plugins_are_spec_errors_with_their_path(spec):
    (spec / "clash.py").write_text(
        "from specs.plugins import derive_algorithm\n\n\n@derive_algorithm(required=('order',))\n"
        "def derive_seq(data, args, ctx):\n    return data.index\n\n\n"
        "@derive_algorithm()\ndef derive_one(data):\n    return data\n", encoding="utf-8")
    (spec / "broken.py").write_text("import pandas\n\nx = 1 / 0\n", encoding="utf-8")
    (spec / "empty.py").write_text("def helper(raw, args, ctx):\n    return raw\n", encoding="utf-8")
    (spec / "twice.py").write_text(PLUGIN, encoding="utf-8")
    (spec / "notes.txt").write_text("", encoding="utf-8")
    declare(spec, "[my_algorithms.py, clash.py, broken.py, empty.py, ../outside.py, missing.py, notes.txt, twice.py]")
    with pytest.raises(SpecError) as error:
        load_study_spec(spec)
    assert [str(p) for p in error.value.problems] == [
        "spec/study.yaml: plugins[1]: derive_seq in clash.py is the name of a built-in algorithm; give the study's "
        "own a name of its own",
        "spec/study.yaml: plugins[1]: derive_one in clash.py: takes (records, args, ctx) as the built-in algorithms do",
        "spec/study.yaml: plugins[2]: 'broken.py' cannot be imported (line 3): ZeroDivisionError: division by zero",
        "spec/study.yaml: plugins[3]: 'empty.py' registers no algorithm (decorate its functions with "
        "specs.plugins.map_algorithm or derive_algorithm)",
        "spec/study.yaml: plugins[4]: '../outside.py' goes up out of the spec folder ('..')",
        "spec/study.yaml: plugins[5]: 'missing.py' not found in the spec folder",
        "spec/study.yaml: plugins[6]: 'notes.txt' is not a Python module (.py)",
        "spec/study.yaml: plugins[7]: derive_site_padded in twice.py is also registered by my_algorithms.py",
        "spec/study.yaml: plugins[7]: derive_birth_year in twice.py is also registered by my_algorithms.py",
    ]


def test_a_plugin_that_fails_on_the_data_is_named(spec):
    declare(spec, "[my_algorithms.py]")
    load_study_spec(spec)
    raw = pd.DataFrame({"SiteNumber": ["7"], "__file": "dm.csv", "__row": [2], "__key": ["a"]})
    ctx = MapContext("X", "DM", "SITEID", None, None, [], [])
    with pytest.raises(DataError) as error:
        run_map(raw, {"algorithm": "derive_site_padded", "source": "SiteNumber", "width": "wide"}, ctx)
    assert str(error.value.problems[0]) == ("DM.SITEID: study algorithm derive_site_padded (my_algorithms.py) failed: "
                                            "ValueError: invalid literal for int() with base 10: 'wide'")
    load_study_spec(builtin_spec_dir())


OAK = Path(__file__).resolve().parents[2] / "specs" / "studies" / "sdtm-oak-example"
OAK_RAW = Path(__file__).resolve().parents[3] / "shared" / "reference" / "studies" / "sdtm-oak-example" / "raw_data"


@pytest.mark.skipif(not OAK_RAW.is_dir(), reason="the shared reference folder is not beside the clone")
def test_a_study_plugin_maps_and_derives_in_a_run(tmp_path, monkeypatch):
    from cdisc.pipeline import build_sdtm_from_raw

    folder = tmp_path / "spec"
    shutil.copytree(OAK, folder)
    monkeypatch.chdir(tmp_path)
    try:
        declare(folder, "[my_algorithms.py]")
        use(folder, "{name: SITEID, map: {algorithm: assign_no_ct, source: SITEID}}",
            "{name: SITEID, map: {algorithm: derive_site_padded, source: SITEID, width: 8}}")
        use(folder, "{name: AGE, map: {algorithm: assign_numeric, source: AGE}}",
            "{name: AGE, method: Year of birth., map: {algorithm: derive_birth_year, birth: RFICDTC}}")
        _, raw, result = build_sdtm_from_raw(folder, OAK_RAW)
        dm = result.datasets["DM"]
        assert (dm["SITEID"].str.len() == 8).all()
        assert list(dm["SITEID"]) == list(raw.tables["dm"]["SITEID"].astype(str).str.zfill(8))
        expected = pd.to_numeric(dm["RFICDTC"].astype(str).str[:4], errors="coerce")
        assert dm["AGE"].astype(float).equals(expected.astype(float)) and expected.notna().any()
    finally:
        use_study_algorithms({})
