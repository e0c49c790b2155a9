"""The spec and CT handed to the workers (cdisc.chunks.tasks)."""
from types import SimpleNamespace

from cdisc.chunks import tasks
from cdisc.chunks.tasks import write_study


def test_workers_read_the_study_the_parent_pickled(tmp_path, monkeypatch):
    monkeypatch.setattr(tasks, "STUDIES", {})
    spec = SimpleNamespace(studyid="S1", plugins={}, domains={"DM": {"from": "dm"}})
    path = write_study(tmp_path, spec, {"NY": ["N", "Y"]})
    assert path == tmp_path / "study.pickle"
    read_spec, ct = tasks._study("/nowhere", path)  # (not loaded from the spec folder)
    assert read_spec.studyid == "S1" and read_spec.domains == {"DM": {"from": "dm"}} and ct == {"NY": ["N", "Y"]}
    assert tasks._study("/nowhere") is tasks.STUDIES["/nowhere"]  # once per process


def test_a_spec_with_plugin_algorithms_is_loaded_by_each_worker(tmp_path):
    spec = SimpleNamespace(studyid="S1", plugins={"derive_week": object()})
    assert write_study(tmp_path, spec, {}) is None and not (tmp_path / "study.pickle").exists()
    unpicklable = SimpleNamespace(studyid="S1", plugins={}, reader=lambda: None)
    assert write_study(tmp_path, unpicklable, {}) is None


def test_workers_read_the_adam_spec_the_parent_pickled(tmp_path, monkeypatch):
    from adam.spec import default_spec_path, load_adam_spec

    monkeypatch.setattr(tasks, "STUDIES", {})
    spec = load_adam_spec(default_spec_path())
    path = tasks.write_adam_spec(tmp_path, spec)
    assert path == tmp_path / "adam_spec.pickle"
    assert "liveness" in vars(spec)  # worked out once, by the parent, and pickled with it
    monkeypatch.setattr("adam.spec.load_adam_spec", lambda path: 1 / 0)  # (not loaded again)
    task = SimpleNamespace(adam_spec_path="/nowhere/adam.yaml", adam_study=path)
    read = tasks._adam_spec(task)
    assert read is not spec and read.data == spec.data and "liveness" in vars(read)
    assert tasks._adam_spec(task) is read  # once per process


def test_the_adam_spec_is_loaded_when_its_pickle_cannot_be_read(tmp_path, monkeypatch):
    monkeypatch.setattr(tasks, "STUDIES", {})
    (tmp_path / "adam_spec.pickle").write_bytes(b"not a pickle")
    monkeypatch.setattr("adam.spec.load_adam_spec", lambda path: f"loaded {path}")
    task = SimpleNamespace(adam_spec_path="/x/adam.yaml", adam_study=tmp_path / "adam_spec.pickle")
    assert tasks._adam_spec(task) == "loaded /x/adam.yaml"
    monkeypatch.setattr(tasks, "STUDIES", {})
    assert tasks._adam_spec(SimpleNamespace(adam_spec_path="/x/adam.yaml", adam_study=None)) == "loaded /x/adam.yaml"
    unpicklable = SimpleNamespace(liveness=None, reader=lambda: None)
    assert tasks.write_adam_spec(tmp_path / "w", unpicklable) is None


def test_a_chunk_reads_the_sdtm_variables_the_adam_spec_reads():
    from adam.spec import AdamSpec

    spec = AdamSpec("adam.yaml", {"datasets": {
        "ADSL": {"source": "DM", "steps": [{"step": "derive_vars_merged",
                                            "args": {"dataset_add": "EX", "by_vars": ["USUBJID"],
                                                     "new_vars": ["EXZZSTDT"]}}],
                 "variables": [{"name": "DMZZAGE", "label": "Age", "type": "Num"}]},
        "ADAE": {"source": "AE", "steps": [{"step": "derive_vars_supp", "args": {"dataset_add": "SUPPAE"}}],
                 "variables": []}}})
    assert {"DMZZAGE", "USUBJID"} <= tasks.sdtm_reads(spec, "DM") and "DMZZXX" not in tasks.sdtm_reads(spec, "DM")
    assert "EXZZSTDT" in tasks.sdtm_reads(spec, "EX") and "EXZZXX" not in tasks.sdtm_reads(spec, "EX")
    assert tasks.sdtm_reads(spec, "AE") is None and tasks.sdtm_reads(spec, "SUPPAE") is None  # (every variable)
    assert tasks.sdtm_reads(spec, "TS") == set()
