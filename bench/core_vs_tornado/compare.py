"""Prints the core benchmarks side by side: tornado-cpp (Google Benchmark JSON files)
against Python Tornado (core_tornado.py's JSON), as ns per item and the speed ratio.

usage: compare.py TORNADO_JSON CPP_JSON [CPP_JSON ...]"""

import json
import sys

# Python case -> the Google Benchmark run measuring the same loop (real time).
PAIRS = {
    "add_callback": "BM_AddCallback/10000/real_time",
    "timer_churn_with_100k_pending": "BM_TimerChurnWith100kPending/real_time",
    "coroutine_resume_round_trip": "BM_CoroutineResumeRoundTrip/10000/real_time",
    "await_ready_future": "BM_AwaitReadyFuture/10000/real_time",
    "coroutine_chain_1000": "BM_CoroutineChain1000/real_time",
    "cross_thread_round_trip": "BM_CrossThreadRoundTrip/1000/real_time",
}


def cpp_ns_per_item(paths):
    found = {}
    for path in paths:
        with open(path) as f:
            for run in json.load(f)["benchmarks"]:
                found[run["name"]] = 1e9 / run["items_per_second"]
    return found


def main():
    with open(sys.argv[1]) as f:
        python = json.load(f)
    cpp = cpp_ns_per_item(sys.argv[2:])
    print("| case | tornado-cpp ns/item | Python Tornado %s ns/item | ratio |" % python["tornado_version"])
    print("|---|---:|---:|---:|")
    for case, bench in PAIRS.items():
        ours, theirs = cpp[bench], python[case]
        print("| %s | %.1f | %.1f | %.1fx |" % (case, ours, theirs, theirs / ours))


if __name__ == "__main__":
    main()
