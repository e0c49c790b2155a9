"""The package from datasets handed on as a read-only Mapping that loads a dataset on each access (the
contract of a run that spills its datasets to disk): each dataset is read once to be described (and once
more only for a file that needs its values), none is kept alive with the others, none is changed, and
the package is byte for byte the one written from a dict of the same frames."""
from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from tests.define.conftest import CREATED


class LoadingDatasets(Mapping):
    """Frames "loaded" on each access (a deep copy of the original), counted; with ``keep`` every frame
    handed out is kept to be compared with its original at the end (a change made to it is a failure),
    without it only weak references are kept, to count how many are alive at once. Only Mapping methods:
    ``in`` is abc.Mapping's own, which reads the dataset (and so counts as a load)."""

    def __init__(self, frames: dict[str, pd.DataFrame], keep: bool):
        self.frames, self.keep = frames, keep
        self.loads: dict[str, int] = {}
        self.handed: list[tuple[str, object]] = []
        self.most_alive = 0

    def __getitem__(self, name: str) -> pd.DataFrame:
        frame = self.frames[name].copy(deep=True)
        self.loads[name] = self.loads.get(name, 0) + 1
        self.handed.append((name, frame if self.keep else weakref.ref(frame)))
        alive = sum(1 for _, f in self.handed if (f if self.keep else f()) is not None)
        self.most_alive = max(self.most_alive, alive)
        return frame

    def __iter__(self):
        return iter(self.frames)

    def __len__(self) -> int:
        return len(self.frames)

    def assert_unchanged(self) -> None:
        assert self.keep
        for name, frame in self.handed:
            pd.testing.assert_frame_equal(frame, self.frames[name], check_exact=True)


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _package(root, demo, sdtm, adam, adam_spec, **options):
    from types import SimpleNamespace

    from cdisc.pipeline import builtin_raw_dir
    from define.package import write_submission

    return write_submission(root, demo.spec, SimpleNamespace(datasets=sdtm, specs=demo.result.specs),
                            adam_spec=adam_spec, adam_datasets=adam, ct=demo.ct, created=CREATED,
                            raw_dir=builtin_raw_dir(), guides=True, **options)


def test_each_dataset_is_read_once_per_file_unchanged_and_the_package_is_the_same(demo, demo_submission, tmp_path):
    from define.guides import adrg, csdrg

    package, adam_frames, adam_spec = demo_submission
    sdtm = LoadingDatasets(dict(demo.result.datasets), keep=True)
    adam = LoadingDatasets(dict(adam_frames), keep=True)
    lazy = _package(tmp_path, demo, sdtm, adam, adam_spec, formats="xpt,json")
    # once to describe it (define.xml, analysis results, the guides' figures), once for its XPT and JSON files
    assert sdtm.loads == {name: 2 for name in demo.result.datasets}
    assert adam.loads == {name: 2 for name in adam_frames}
    sdtm.assert_unchanged()
    adam.assert_unchanged()
    guides = {"csdrg.pdf", "adrg.pdf"}  # (other tests write the session's guides again, with findings)
    for key, folder in package.folders.items():
        assert {k: v for k, v in _files(lazy.folders[key]).items() if k not in guides} == \
            {k: v for k, v in _files(folder).items() if k not in guides}, key
    # the guides' figures, from the summaries made in the define pass, as from the frames themselves
    loads = dict(sdtm.loads), dict(adam.loads)
    fresh = {key: replace(model, summaries={}) for key, model in package.models.items()}  # read from the frames
    assert csdrg(demo.spec, lazy.models["sdtm"], None, CREATED) == csdrg(demo.spec, fresh["sdtm"], None, CREATED)
    assert adrg(demo.spec, lazy.models["adam"], adam_spec, None, CREATED) == \
        adrg(demo.spec, fresh["adam"], adam_spec, None, CREATED)
    assert (sdtm.loads, adam.loads) == loads


def test_files_written_from_the_same_mapping_are_linked_without_reading_again(demo, demo_submission, tmp_path):
    from cdisc.pipeline import write_adam_datasets, write_datasets
    from define.written import XptFiles

    package, adam_frames, adam_spec = demo_submission
    sdtm = LoadingDatasets(dict(demo.result.datasets), keep=False)
    adam = LoadingDatasets(dict(adam_frames), keep=False)
    written = XptFiles()
    write_datasets(sdtm, demo.result.specs, tmp_path / "sdtm", CREATED, written)
    write_adam_datasets(adam, adam_spec, tmp_path / "adam", CREATED, written)
    assert sdtm.most_alive == 1 and adam.most_alive == 1  # remembering the files keeps no frame alive
    lazy = _package(tmp_path, demo, sdtm, adam, adam_spec, formats="xpt", xpt_files=written)
    assert sdtm.loads == {name: 2 for name in demo.result.datasets}  # written, then described: no more
    assert adam.loads == {name: 2 for name in adam_frames}
    assert sdtm.most_alive == 1 and adam.most_alive == 1  # one dataset in memory at a time
    for key, folder in lazy.folders.items():
        for path in folder.glob("*.xpt"):
            assert path.samefile(tmp_path / key / path.name)  # linked, not written again
            assert path.read_bytes() == (package.folders[key] / path.name).read_bytes()


def test_the_guides_and_lineage_read_no_dataset(demo, demo_submission, tmp_path):
    from types import SimpleNamespace

    from cdisc.lineage import write_lineage
    from define.guides import write_guides

    _, adam_frames, adam_spec = demo_submission
    sdtm = LoadingDatasets(dict(demo.result.datasets), keep=False)
    adam = LoadingDatasets(dict(adam_frames), keep=False)
    lazy = _package(tmp_path, demo, sdtm, adam, adam_spec, formats="xpt", guides_later=True)
    before = (dict(sdtm.loads), dict(adam.loads))
    write_guides(lazy.folders, demo.spec, lazy.models, adam_spec, {}, CREATED)
    result = SimpleNamespace(datasets=sdtm, specs=demo.result.specs, lineage=demo.result.lineage)
    write_lineage(tmp_path, demo.spec, result, adam_spec, adam)
    assert (sdtm.loads, adam.loads) == before


class ColumnDatasets(LoadingDatasets):
    """LoadingDatasets that also hand out each dataset as a ``define.columns.ColumnView`` (as the run's spill
    does), whose column reads are counted apart from the whole-frame loads."""

    def __init__(self, frames: dict[str, pd.DataFrame]):
        super().__init__(frames, keep=False)
        self.column_reads: dict[str, int] = {}

    def columns_of(self, name: str):
        from define.columns import ColumnView

        frame = self.frames[name]

        def read(names):
            for column in names:
                self.column_reads[f"{name}.{column}"] = self.column_reads.get(f"{name}.{column}", 0) + 1
            return frame[list(names)].copy(deep=True)

        return ColumnView(list(frame.columns), len(frame), read)


def test_datasets_read_a_column_at_a_time_are_described_without_a_whole_frame(demo, demo_submission, tmp_path):
    package, adam_frames, adam_spec = demo_submission
    sdtm, adam = ColumnDatasets(dict(demo.result.datasets)), ColumnDatasets(dict(adam_frames))
    lazy = _package(tmp_path, demo, sdtm, adam, adam_spec, formats="xpt,json")
    # whole frames only for the XPT and JSON files; every variable read to be described
    assert sdtm.loads == {name: 1 for name in demo.result.datasets}
    assert adam.loads == {name: 1 for name in adam_frames}
    for mapping, frames in ((sdtm, demo.result.datasets), (adam, adam_frames)):
        assert set(mapping.column_reads) == {f"{name}.{c}" for name, frame in frames.items() for c in frame.columns}
    guides = {"csdrg.pdf", "adrg.pdf"}
    for key, folder in package.folders.items():
        assert {k: v for k, v in _files(lazy.folders[key]).items() if k not in guides} == \
            {k: v for k, v in _files(folder).items() if k not in guides}, key
    assert lazy.models["sdtm"].summaries == package.models["sdtm"].summaries
    assert lazy.models["adam"].summaries == package.models["adam"].summaries
