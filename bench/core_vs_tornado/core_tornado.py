"""The loops of //ioloop:ioloop_benchmark and //concurrent:concurrent_benchmark, in
Python Tornado (Debian's python3-tornado, 6.2). Prints JSON: {name: ns per item}.

Each case repeats its loop until at least MIN_SECONDS have passed and reports the mean
time per item, as Google Benchmark's items_per_second does on the C++ side."""

import asyncio
import json
import sys
import threading
import time

import tornado
from tornado.concurrent import Future
from tornado.ioloop import IOLoop

MIN_SECONDS = 1.0


def new_loop():
    asyncio.set_event_loop(asyncio.new_event_loop())
    return IOLoop.current()


def measure(run_once, items_per_run):
    runs, start = 0, time.perf_counter()
    while True:
        run_once()
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_SECONDS:
            return elapsed * 1e9 / (runs * items_per_run)


def add_callback(loop, n=10000):
    def run_once():
        count = [0]

        def callback():
            count[0] += 1
            if count[0] == n:
                loop.stop()

        def queue_all():
            for _ in range(n):
                loop.add_callback(callback)

        loop.add_callback(queue_all)
        loop.start()

    return measure(run_once, n)


def timer_churn_with_100k_pending(loop, n=10000):
    pending = [loop.call_later(3600 + i, lambda: None) for i in range(100000)]

    async def churn():
        for _ in range(n):
            loop.remove_timeout(loop.call_later(1800, lambda: None))

    result = measure(lambda: loop.run_sync(churn), n)
    for handle in pending:
        loop.remove_timeout(handle)
    return result


def coroutine_resume_round_trip(loop, n=10000):
    async def ping_pong():
        for _ in range(n):
            f = Future()
            loop.add_callback(f.set_result, None)
            await f

    return measure(lambda: loop.run_sync(ping_pong), n)


def await_ready_future(loop, n=10000):
    ready = Future()
    ready.set_result(1)

    async def await_many():
        total = 0
        for _ in range(n):
            total += await ready
        return total

    return measure(lambda: loop.run_sync(await_many), n)


def coroutine_chain_1000(loop):
    async def chain(depth, gate):
        if depth == 0:
            return await gate
        return await chain(depth - 1, gate) + 1

    async def one_chain():
        gate = Future()
        loop.add_callback(gate.set_result, 0)
        return await chain(1000, gate)

    sys.setrecursionlimit(10000)
    return measure(lambda: loop.run_sync(one_chain), 1)


def cross_thread_round_trip(loop, n=1000):
    ready = threading.Event()
    remote = {}

    def remote_main():
        remote["loop"] = new_loop()
        ready.set()
        remote["loop"].start()

    thread = threading.Thread(target=remote_main)
    thread.start()
    ready.wait()
    remote_loop = remote["loop"]

    def run_once():
        trips = [0]

        def back_home():
            trips[0] += 1
            if trips[0] == n:
                loop.stop()
            else:
                ping()

        def ping():
            remote_loop.add_callback(lambda: loop.add_callback(back_home))

        loop.add_callback(ping)
        loop.start()

    result = measure(run_once, n)
    remote_loop.add_callback(remote_loop.stop)
    thread.join()
    return result


CASES = {
    "add_callback": add_callback,
    "timer_churn_with_100k_pending": timer_churn_with_100k_pending,
    "coroutine_resume_round_trip": coroutine_resume_round_trip,
    "await_ready_future": await_ready_future,
    "coroutine_chain_1000": coroutine_chain_1000,
    "cross_thread_round_trip": cross_thread_round_trip,
}


def main():
    loop = new_loop()
    results = {"tornado_version": tornado.version}
    for name, case in CASES.items():
        results[name] = case(loop)
    json.dump(results, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
