"""tornado_dependencies(): every external repository tornado-cpp needs, offline.

A user's WORKSPACE calls it after `local_repository(name = "tornado", ...)`. Each
repository is declared only if the caller has not declared it already, so a user with
internet can pin the upstream http_archive instead, with the same name and labels.
"""

load("//third_party:repositories.bzl", "stand_in_repository", "system_library")

# Upstream abseil packages and targets we offer; all forward to the Debian libraries.
_ABSL_PACKAGES = {
    "absl/algorithm": ["algorithm", "container"],
    "absl/base": ["base", "config", "core_headers", "endian", "log_severity", "prefetch"],
    "absl/cleanup": ["cleanup"],
    "absl/container": [
        "btree",
        "fixed_array",
        "flat_hash_map",
        "flat_hash_set",
        "inlined_vector",
        "node_hash_map",
        "node_hash_set",
    ],
    "absl/debugging": ["failure_signal_handler", "leak_check", "stacktrace", "symbolize"],
    "absl/flags": ["flag", "parse", "usage"],
    "absl/functional": ["any_invocable", "bind_front", "function_ref"],
    "absl/hash": ["hash"],
    "absl/memory": ["memory"],
    "absl/meta": ["type_traits"],
    "absl/numeric": ["bits", "int128"],
    "absl/random": ["bit_gen_ref", "distributions", "random"],
    "absl/status": ["status", "statusor"],
    "absl/strings": ["cord", "str_format", "strings"],
    "absl/synchronization": ["synchronization"],
    "absl/time": ["time"],
    "absl/types": ["any", "compare", "optional", "span", "variant"],
    "absl/utility": ["utility"],
}

def _shim(name, build_file, **kwargs):
    if name in native.existing_rules():
        return
    system_library(
        name = name,
        files = {Label("//third_party:%s" % build_file): "BUILD.bazel"},
        **kwargs
    )

def tornado_dependencies():
    """Declares the Bazel rule repositories and the system-library shims."""
    existing = native.existing_rules()
    if "rules_java" not in existing:
        native.local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")
    if "platforms" not in existing:
        native.local_repository(name = "platforms", path = "/usr/share/bazel/tools/platforms")
    if "rules_cc" not in existing:
        stand_in_repository(
            name = "rules_cc",
            files = {
                Label("//third_party:stand_ins/rules_cc/cc/defs.bzl"): "cc/defs.bzl",
                Label("//third_party:stand_ins/rules_cc/cc/BUILD.stand_in"): "cc/BUILD.bazel",
                Label("//third_party:stand_ins/empty.BUILD"): "BUILD.bazel",
            },
        )
    if "remote_coverage_tools" not in existing:
        stand_in_repository(
            name = "remote_coverage_tools",
            files = {
                Label("//third_party:stand_ins/remote_coverage_tools/BUILD.stand_in"): "BUILD.bazel",
                Label("//third_party:stand_ins/remote_coverage_tools/coverage_unavailable.sh"): "coverage_unavailable.sh",
            },
        )

    _shim(
        "com_google_absl",
        "absl.BUILD",
        link_all_with_prefix = "absl_",
        forwarding_packages = _ABSL_PACKAGES,
        umbrella = "//:absl",
        system_paths = {"include/absl": "/usr/include/absl"},
    )
    _shim(
        "boringssl",
        "boringssl.BUILD",
        system_paths = {"include/openssl": "/usr/include/android/openssl"},
    )
    _shim("com_google_googletest", "googletest.BUILD", system_paths = {"include/gtest": "/usr/include/gtest"})
    _shim("com_github_google_benchmark", "benchmark.BUILD", system_paths = {"include/benchmark": "/usr/include/benchmark"})
    _shim("com_google_protobuf", "protobuf.BUILD", system_paths = {"bin/protoc": "/usr/bin/protoc"})
    _shim("com_github_grpc_grpc", "grpc.BUILD", system_paths = {"bin/grpc_cpp_plugin": "/usr/bin/grpc_cpp_plugin"})
    _shim("com_googlesource_code_re2", "re2.BUILD", system_paths = {"include/re2": "/usr/include/re2"})
    _shim("zlib", "zlib.BUILD", system_paths = {"include/zlib.h": "/usr/include/zlib.h"})
    _shim("org_brotli", "brotli.BUILD", system_paths = {"include/brotli": "/usr/include/brotli"})
    _shim("com_github_nlohmann_json", "nlohmann_json.BUILD", system_paths = {"include/nlohmann": "/usr/include/nlohmann"})
    _shim("com_github_fmtlib_fmt", "fmt.BUILD", system_paths = {"include/fmt": "/usr/include/fmt"})
    _shim("com_github_gabime_spdlog", "spdlog.BUILD", system_paths = {"include/spdlog": "/usr/include/spdlog"})
    _shim("com_github_curl_curl", "curl.BUILD", system_paths = {"include/curl": "/usr/include/@MULTIARCH@/curl"})
    _shim("python3_11", "python.BUILD", system_paths = {"include": "/usr/include/python3.11"})
    _shim(
        "com_github_nodejs_llhttp",
        "llhttp.BUILD",
        system_paths = {
            "src": "/usr/share/llhttp",
            "include/llhttp.h": "/usr/share/include/llhttp/llhttp.h",
        },
    )
