#!/usr/bin/python3
"""The same operations as bench_runtime.c and bench_switch.c, with Python's
asyncio (Debian's python3), so that bench/run.sh can report ratios from one
run. Each figure is the median of 5 runs and is printed in the same format
as the C benchmark.

Usage: asyncio_peer.py [switch] [spawn] [yield] [suspended] [queue]
"""
import asyncio
import statistics
import sys
import time

RUNS = 5


class Suspend:
    """The smallest awaitable that suspends: one coroutine switch out and in."""

    def __await__(self):
        yield


async def switcher(n):
    s = Suspend()
    for _ in range(n):
        await s


def bench_switch():
    n = 2_000_000
    v = []
    for _ in range(RUNS):
        c = switcher(n)
        t0 = time.perf_counter_ns()
        try:
            while True:
                c.send(None)
        except StopIteration:
            pass
        v.append((time.perf_counter_ns() - t0) / (2 * n))
    print(f"switch_ping_pong    {statistics.median(v):8.1f} ns per switch (a coroutine driven by send(), {n} round trips)")


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4


async def empty():
    return None


async def serial_main(n):
    for _ in range(n):
        await asyncio.get_running_loop().create_task(empty())


async def batch_main(n, batch=1000):
    loop = asyncio.get_running_loop()
    for _ in range(n // batch):
        await asyncio.gather(*[loop.create_task(empty()) for _ in range(batch)])


def timed(coro_fn, n):
    t0 = time.perf_counter_ns()
    asyncio.run(coro_fn(n))
    return (time.perf_counter_ns() - t0) / n


def bench_spawn():
    n = 200_000
    serial = statistics.median(timed(serial_main, n) for _ in range(RUNS))
    batch = statistics.median(timed(batch_main, n) for _ in range(RUNS))
    print(f"spawn_join_serial   {serial:8.1f} ns per task  (create_task + await, {n} tasks)")
    print(f"spawn_gather_batch  {batch:8.1f} ns per task  (batches of 1000, gather, {n} tasks)")


async def pinger(n):
    for _ in range(n):
        await asyncio.sleep(0)


async def pingpong_main(n):
    await asyncio.gather(pinger(n), pinger(n))


def bench_yield():
    n = 500_000
    v = statistics.median(timed(pingpong_main, n) / 2 for _ in range(RUNS))
    print(f"yield_pingpong      {v:8.1f} ns per yield (two tasks, {n} sleep(0) each)")


async def suspended_main(result, count=10_000):
    go = asyncio.Event()
    waiting = 0

    async def body():
        nonlocal waiting
        frame = bytearray(1024)  # the same 1 KiB of locals as the C task
        waiting += 1
        await go.wait()
        return frame[10]

    before = rss_kib()
    tasks = [asyncio.get_running_loop().create_task(body()) for _ in range(count)]
    while waiting < count:
        await asyncio.sleep(0.001)
    result.append((rss_kib() - before) / count)
    go.set()
    await asyncio.gather(*tasks)


def bench_suspended():
    v = []
    for _ in range(RUNS):
        asyncio.run(suspended_main(v))
    print(f"suspended_rss       {statistics.median(v):8.2f} KiB per task (10000 tasks suspended at once)")


ITEMS = 1_000_000


async def pipeline(stats, make_item, take_item):
    """4 producers put make_item(i) into a bounded queue, 4 consumers add up
    the items (or what take_item(item) gives); run_workers() in bench_runtime.c."""
    q = asyncio.Queue(maxsize=1024)
    consumed = 0
    total = 0
    start = rss_kib()
    peak = start

    async def producer():
        for i in range(ITEMS // 4):
            await q.put(make_item(i + 1))

    async def consumer():
        nonlocal consumed, total, peak
        while True:
            item = await q.get()
            if item is None:
                return
            if take_item is None:
                value = item
            else:
                value = await take_item(item)  # not "total += await ...": total would be read before the await
            total += value
            consumed += 1
            if consumed % 65536 == 0:
                peak = max(peak, rss_kib())

    consumers = [asyncio.create_task(consumer()) for _ in range(4)]
    await asyncio.gather(*[producer() for _ in range(4)])
    for _ in consumers:
        await q.put(None)  # asyncio.Queue has no close before 3.13
    await asyncio.gather(*consumers)
    per = ITEMS // 4
    assert consumed == ITEMS and total == 4 * per * (per + 1) // 2
    stats.append(peak - start)


async def job(i):
    return i


async def queue_main(stats):
    await pipeline(stats, lambda i: i, None)


async def queue_tasks_main(stats):
    """Each item is a task: producers create tasks, consumers await them."""
    loop = asyncio.get_running_loop()

    async def await_task(t):
        return await t

    await pipeline(stats, lambda i: loop.create_task(job(i)), await_task)


def run_pipeline(name, main_fn, what):
    v, growth = [], []
    for _ in range(RUNS):
        t0 = time.perf_counter_ns()
        asyncio.run(main_fn(growth))
        v.append((time.perf_counter_ns() - t0) / ITEMS)
    print(f"{name:<19} {statistics.median(v):8.1f} ns per {what} ({ITEMS}, maxsize 1024, "
          f"4 producers, 4 consumers; RSS growth while running: {max(growth)} KiB)")


def bench_queue():
    run_pipeline("queue_1m", queue_main, "item")


def bench_queue_tasks():
    run_pipeline("queue_tasks_1m", queue_tasks_main, "task")


def main():
    benches = {"switch": bench_switch, "spawn": bench_spawn, "yield": bench_yield, "suspended": bench_suspended, "queue": bench_queue,
               "queue_tasks": bench_queue_tasks}
    chosen = sys.argv[1:] or list(benches)
    print(f"# Python {sys.version.split()[0]} asyncio")
    for name in chosen:
        benches[name]()


if __name__ == "__main__":
    main()
