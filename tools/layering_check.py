"""Layering check: every cross-package dependency of every target but tests and
benchmarks must be an edge that tools/module_map.bzl allows, and packages must not
depend on each other in a cycle. Run from the repo root: python3 tools/layering_check.py [--bazel ./bazelw]."""

import argparse
import ast
import re
import subprocess
import sys

# Every target but tests and benchmarks (tornado_cc_benchmark tags them "benchmark"):
# both measure a module from outside and may depend on anything, e.g. a client's
# benchmark on a server. Testonly libraries (testing, test helpers) are part of their
# package and obey the map like the rest.
QUERY = "//... except tests(//...) except attr(tags, '\\bbenchmark\\b', //...)"
EDGE_LINE = re.compile(r'^\s*"([^"]+)"\s*->\s*"([^"]+)"')


def load_map(text):
    """Returns (MODULE_MAP, INFRASTRUCTURE_PACKAGES) from module_map.bzl's text."""
    values = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values["MODULE_MAP"], set(values["INFRASTRUCTURE_PACKAGES"])


def parse_graph(text):
    """Returns the (from, to) label pairs of `bazel query --output=graph` output."""
    return [m.groups() for m in map(EDGE_LINE.match, text.splitlines()) if m]


def top_package(label):
    """'//web/internal:x' -> 'web'; '//:x' -> ''."""
    return label.lstrip("/").split(":")[0].split("/")[0]


def find_cycle(graph):
    """Returns a list of nodes forming a cycle (first == last), or None."""
    state = {}  # node -> "open" while on the DFS stack, "done" after.
    stack = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def check_map(module_map):
    errors = []
    for module, deps in sorted(module_map.items()):
        for dep in deps:
            if dep not in module_map:
                errors.append("module map: %s may depend on %r, which is not a module" % (module, dep))
    cycle = find_cycle(module_map)
    if cycle:
        errors.append("module map has a cycle: " + " -> ".join(cycle))
    return errors


def check(edges, module_map, infrastructure):
    """Returns one error string per violation; empty when the graph obeys the map."""
    errors = check_map(module_map)
    package_graph = {}
    first_edge = {}
    for src, dst in edges:
        src_pkg, dst_pkg = top_package(src), top_package(dst)
        for pkg, label in ((src_pkg, src), (dst_pkg, dst)):
            if pkg not in module_map and pkg not in infrastructure:
                errors.append("%s: package %r is neither a module nor infrastructure in "
                              "tools/module_map.bzl" % (label, pkg))
        if src_pkg == dst_pkg:
            continue
        if src_pkg in module_map and dst_pkg not in module_map[src_pkg]:
            errors.append("forbidden edge %s -> %s: module %s may not depend on %s" %
                          (src, dst, src_pkg, dst_pkg or "the root package"))
        package_graph.setdefault(src_pkg, set()).add(dst_pkg)
        first_edge.setdefault((src_pkg, dst_pkg), (src, dst))
    cycle = find_cycle(package_graph)
    if cycle:
        src, dst = first_edge[(cycle[-2], cycle[-1])]
        errors.append("package cycle %s, closed by edge %s -> %s" % (" -> ".join(cycle), src, dst))
    return sorted(set(errors))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bazel", default="./bazelw")
    parser.add_argument("--map", default="tools/module_map.bzl")
    args = parser.parse_args()
    with open(args.map) as f:
        module_map, infrastructure = load_map(f.read())
    graph = subprocess.run(
        [args.bazel, "query", "--noimplicit_deps", "--nograph:factored", "--output=graph", QUERY],
        check=True, capture_output=True, text=True).stdout
    edges = parse_graph(graph)
    errors = check(edges, module_map, infrastructure)
    for error in errors:
        print("layering: " + error, file=sys.stderr)
    if errors:
        return 1
    print("layering: OK, %d dependency edges obey tools/module_map.bzl" % len(edges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
