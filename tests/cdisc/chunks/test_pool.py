"""Tasks handed to the workers, at most so many at a time (cdisc.chunks.pool)."""
from cdisc.chunks.pool import Running


def test_running_keeps_to_the_tasks_allowed_at_once():
    # a thread pool of 3 stands in for the worker processes: with one task allowed at a time, no two overlap
    # until the results are asked for; the results come in task order
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    lock, now, most = threading.Lock(), [0], [0]

    def task(t):
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        time.sleep(0.05)
        with lock:
            now[0] -= 1
        return t.index * 10

    tasks = [SimpleNamespace(index=i) for i in range(4)]
    with ThreadPoolExecutor(3) as pool:
        running = Running(pool, task, tasks, at_once=1)
        time.sleep(0.5)  # (all four done one after the other meanwhile)
        assert most[0] == 1
        assert running.results() == [0, 10, 20, 30]


def test_running_without_a_pool_runs_the_tasks_here_when_asked():
    from types import SimpleNamespace

    ran = []
    tasks = [SimpleNamespace(index=i) for i in range(3)]
    running = Running(None, lambda t: ran.append(t.index) or t.index, tasks, at_once=1)
    assert ran == []
    assert running.results() == [0, 1, 2] and ran == [0, 1, 2]
