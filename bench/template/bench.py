"""Renders template/testdata/bench_templates/page.html with Python Tornado; prints renders/s."""
import json
import os
import sys
import time

import tornado
from tornado.template import Loader

here = os.path.dirname(os.path.abspath(__file__))
testdata = os.path.join(here, "..", "..", "template", "testdata")
loader = Loader(os.path.join(testdata, "bench_templates"))
data = json.load(open(os.path.join(testdata, "bench_data.json")))
t = loader.load("page.html")
out = t.generate(**data)
if os.environ.get("TEMPLATE_BENCH_DUMP"):
    open(os.environ["TEMPLATE_BENCH_DUMP"], "wb").write(out)
seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
n = 0
start = time.perf_counter()
while time.perf_counter() - start < seconds:
    for _ in range(50):
        t.generate(**data)
    n += 50
elapsed = time.perf_counter() - start
print("tornado %s bytes=%d renders/s=%.1f" % (tornado.version, len(out), n / elapsed))
