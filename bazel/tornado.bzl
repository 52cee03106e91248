"""Macros every module package uses: its version, libraries, tests and benchmarks.

A module's BUILD file starts with `tornado_package(version = "x.y.z")`, which generates
`<module>/version.h` (tornado::<module>::kVersion and its parts) as target `:version`.
The cc macros add the project's warning flags; libraries also export `:version`.
"""

# Our own code builds with these; external shims do not.
TORNADO_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
]

# C++ keywords cannot be namespace names; such a module's namespace gets a trailing _.
_CXX_KEYWORDS = ["template", "export", "module", "import", "concept", "requires"]

def module_namespace(package):
    return package + "_" if package in _CXX_KEYWORDS else package

def _parse_semver(version):
    parts = version.split(".")
    if len(parts) != 3 or not all([p.isdigit() for p in parts]):
        fail("tornado_package: version %r is not MAJOR.MINOR.PATCH" % version)
    return [int(p) for p in parts]

def tornado_package(version):
    """Declares the package's semver once and generates <package>/version.h."""
    major, minor, patch = _parse_semver(version)
    package = native.package_name()
    if "/" in package:
        fail("tornado_package: modules are top-level packages, not %r" % package)
    native.genrule(
        name = "version_h",
        srcs = ["//bazel:version.h.tpl"],
        outs = ["version.h"],
        cmd = "sed -e 's/@NAMESPACE@/%s/; s/@PACKAGE@/%s/; s/@VERSION@/%s/; s/@MAJOR@/%d/; s/@MINOR@/%d/; s/@PATCH@/%d/' $< > $@" % (
            module_namespace(package),
            package,
            version,
            major,
            minor,
            patch,
        ),
    )
    native.cc_library(
        name = "version",
        hdrs = ["version.h"],
        visibility = ["//visibility:public"],
    )

def _with_version(deps):
    if native.existing_rule("version") and ":version" not in deps:
        return deps + [":version"]
    return deps

def tornado_cc_library(name, deps = [], copts = [], **kwargs):
    """cc_library with the project's copts; depends on the package's :version."""
    native.cc_library(
        name = name,
        deps = _with_version(deps),
        copts = TORNADO_COPTS + copts,
        **kwargs
    )

def tornado_cc_binary(name, copts = [], **kwargs):
    native.cc_binary(name = name, copts = TORNADO_COPTS + copts, **kwargs)

def tornado_cc_test(name, deps = [], copts = [], gtest_main = True, **kwargs):
    """cc_test with the project's copts, linked with GoogleTest (and its main)."""
    extra = [
        "@com_google_googletest//:gtest_main" if gtest_main else "@com_google_googletest//:gtest",
        "//bazel:tsan_suppressions",
    ]
    native.cc_test(
        name = name,
        deps = deps + extra,
        copts = TORNADO_COPTS + copts,
        **kwargs
    )

def tornado_cc_benchmark(name, deps = [], copts = [], tags = [], **kwargs):
    """A Google Benchmark binary, plus `<name>_smoke`, a test that runs every case once
    so benchmarks keep building and working (speed is read from the binary, not CI)."""
    native.cc_binary(
        name = name,
        deps = deps + ["@com_github_google_benchmark//:benchmark_main"],
        copts = TORNADO_COPTS + copts,
        tags = tags + ["benchmark"],
        testonly = True,
        **kwargs
    )
    native.sh_test(
        name = name + "_smoke",
        srcs = ["//bazel:run_benchmark_smoke.sh"],
        args = ["$(location :%s)" % name],
        data = [":" + name],
        tags = tags + ["benchmark"],
    )
