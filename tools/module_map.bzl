"""The module map (DESIGN.md section 3): each module package and the modules it may
depend on directly. Tests and benchmarks (tornado_cc_benchmark) may depend on anything;
every other target, testonly libraries included, obeys the map.

tools/layering_check.py reads this file as a Python literal; BUILD files may load it.
Keep it a plain dict of string lists.
"""

MODULE_MAP = {
    "util": [],
    "escape": ["util"],
    "log": ["escape", "util"],
    "concurrent": ["log", "util"],
    "ioloop": ["concurrent", "log", "util"],
    "gen": ["concurrent", "ioloop", "log", "util"],
    "locks": ["concurrent", "gen", "ioloop"],
    "queues": ["concurrent", "gen", "ioloop", "locks"],
    # log: our accept loop logs its EMFILE back-off, which Tornado's does not have.
    "netutil": ["concurrent", "escape", "ioloop", "log", "util"],
    "iostream": ["concurrent", "ioloop", "log", "netutil", "util"],
    "process": ["concurrent", "ioloop", "iostream", "log", "util"],
    "tcpserver": ["gen", "ioloop", "iostream", "log", "netutil", "process", "util"],
    "tcpclient": ["concurrent", "gen", "ioloop", "iostream", "netutil"],
    # concurrent: the delegate interfaces return Future<void>, as Tornado's return
    # (asyncio) futures; ours live in concurrent.
    "httputil": ["concurrent", "escape", "log", "util"],
    "http1connection": ["concurrent", "escape", "gen", "httputil", "iostream", "log", "util"],
    "httpserver": ["escape", "http1connection", "httputil", "iostream", "log", "netutil", "tcpserver", "util"],
    "httpclient": ["concurrent", "escape", "gen", "httputil", "ioloop", "log", "util"],
    "simple_httpclient": [
        "concurrent",
        "escape",
        "gen",
        "http1connection",
        "httpclient",
        "httputil",
        "ioloop",
        "iostream",
        "log",
        "netutil",
        "tcpclient",
        "util",
    ],
    "curl_httpclient": ["escape", "httpclient", "httputil", "ioloop", "log", "util"],
    "routing": ["httpserver", "httputil", "log", "util"],
    "template": ["escape", "log", "util"],
    "locale": ["escape", "log", "util"],
    "options": ["escape", "log", "util"],
    "web": [
        "concurrent",
        "escape",
        "gen",
        "httpserver",
        "httputil",
        "iostream",
        "locale",
        "log",
        "routing",
        "template",
        "util",
    ],
    "websocket": [
        "concurrent",
        "escape",
        "gen",
        "httpclient",
        "httputil",
        "ioloop",
        "iostream",
        "log",
        "simple_httpclient",
        "tcpclient",
        "util",
        "web",
    ],
    "auth": ["concurrent", "escape", "httpclient", "httputil", "log", "util", "web"],
    "wsgi": ["concurrent", "escape", "httputil", "ioloop", "log", "util"],
    "autoreload": ["ioloop", "log", "process", "util"],
    "health": ["concurrent", "ioloop", "log", "tcpserver", "util"],
    "testing": [
        "concurrent",
        "gen",
        "httpclient",
        "httpserver",
        "ioloop",
        "iostream",
        "log",
        "netutil",
        "process",
        "simple_httpclient",
        "util",
    ],
}

# Packages that are not modules: build support, tools, apps and benchmarks. They may
# depend on any module; no module may depend on them.
INFRASTRUCTURE_PACKAGES = ["", "bazel", "bench", "demos", "docs", "examples", "third_party", "tools"]
