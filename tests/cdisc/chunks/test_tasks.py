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
