"""The worker processes the chunks run in, and the tasks handed to them while this process goes on."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import TYPE_CHECKING

from cdisc.profiling import in_workers

if TYPE_CHECKING:
    from cdisc.chunks.tasks import Task


class Workers:
    """Chunks run in worker processes (spawned: no fork with pyarrow's threads alive); one worker runs them
    here, one after the other. The pool of the SDTM pass is let go before the parent joins and writes the
    datasets (a worker keeps ~0.3 GB of what mapping a chunk left); ``start`` opens the next pool's workers
    and has them import ``warm`` meanwhile."""

    def __init__(self, workers: int):
        self.workers, self.pool, self.running = workers, None, None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, warm=None) -> None:
        if self.workers > 1 and self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"))
            if warm is not None:  # (each task submitted to a pool without an idle worker starts one)
                for _ in range(self.workers):
                    self.pool.submit(warm)

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()
            self.running = None
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def run(self, function, tasks: list[Task], progress=None, what: str = "") -> list:
        """The result of each task, in chunk order."""
        return self.submit(function, tasks).results(progress, what)

    def submit(self, function, tasks: list[Task], at_once: int | None = None) -> Running:
        """The tasks started in the workers, at most ``at_once`` at a time (``Running.allow`` raises it), while
        this process goes on; one worker runs them here when asked for the results."""
        if self.pool is None and self.workers > 1:
            self.start()
        self.running = Running(self.pool, function, tasks, at_once or self.workers)
        return self.running


class Running:
    """Tasks handed to a pool's workers by a thread of this process, at most ``at_once`` running at a time, so
    that this process can do other work beside them (ADaM's first chunks run while the SDTM datasets are
    written: one worker then, both once the parent's largest joins are done, so that the memory of the joins
    and of two workers never adds up). Without a pool the tasks run here, one after the other, in
    ``results``."""

    def __init__(self, pool, function, tasks: list, at_once: int):
        import threading

        self.pool, self.function, self.tasks, self.at_once = pool, function, tasks, at_once
        self.futures: list = [None] * len(tasks)
        self.submitted = [threading.Event() for _ in tasks]
        self.wake, self.stopped = threading.Event(), False
        self.thread = None
        if pool is not None:
            self.thread = threading.Thread(target=self._feed, name="chunk-feeder", daemon=True)
            self.thread.start()

    def _feed(self) -> None:
        from concurrent.futures import FIRST_COMPLETED, wait

        following = 0
        while not self.stopped:
            running = [f for f in self.futures[:following] if not f.done()]
            while following < len(self.tasks) and len(running) < self.at_once and not self.stopped:
                try:
                    future = self.pool.submit(in_workers(self.function), self.tasks[following])
                except RuntimeError:  # the pool shut down (the run failed meanwhile)
                    return
                self.futures[following] = future
                self.submitted[following].set()
                running.append(future)
                following += 1
            if following == len(self.tasks):
                return
            self.wake.clear()
            if running:
                wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            else:
                self.wake.wait(0.2)

    def allow(self, at_once: int) -> None:
        """At most ``at_once`` tasks at a time from now on."""
        self.at_once = at_once
        self.wake.set()

    def stop(self) -> None:
        """No further task started (the running ones finish when the pool shuts down)."""
        self.stopped = True
        self.wake.set()
        if self.thread is not None:
            self.thread.join()

    def results(self, progress=None, what: str = "") -> list:
        """The result of each task, in chunk order (all of them allowed to run at once from now on)."""
        out = []
        if self.pool is None:
            for task in self.tasks:
                if progress is not None:
                    progress.step(f"{what}: chunk {task.index + 1} of {len(self.tasks)}")
                out.append(self.function(task))
            return out
        self.allow(len(self.tasks))
        for index, task in enumerate(self.tasks):
            while not self.submitted[index].wait(0.5):
                if self.stopped or not self.thread.is_alive():  # (the pool shut down: an earlier result raised)
                    if not self.submitted[index].is_set():
                        raise RuntimeError("the chunk workers stopped before every chunk was started")
            out.append(self.futures[index].result())
            if progress is not None:
                progress.step(f"{what}: chunk {task.index + 1} of {len(self.tasks)} done")
        return out
