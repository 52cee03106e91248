"""Tests for layering_check: it must fail on a forbidden edge and on a cycle."""

import os
import unittest

import layering_check as lc

MAP = {"util": [], "escape": ["util"], "log": ["escape", "util"]}
INFRA = {"", "tools", "demos", "bench"}


class LayeringCheckTest(unittest.TestCase):
    def test_allowed_edges_pass(self):
        edges = [("//log:log", "//escape:escape"), ("//escape:escape", "//util:util"),
                 ("//log:log", "//log:version"), ("//demos:app", "//log:log")]
        self.assertEqual(lc.check(edges, MAP, INFRA), [])

    def test_forbidden_edge_is_named(self):
        errors = lc.check([("//util:util", "//log:log")], MAP, INFRA)
        self.assertTrue(any("forbidden edge //util:util -> //log:log" in e for e in errors), errors)

    def test_skipping_a_layer_is_forbidden(self):
        bigger = dict(MAP, concurrent=["log"])
        errors = lc.check([("//concurrent:c", "//util:util")], bigger, INFRA)
        self.assertEqual(len(errors), 1)
        self.assertIn("module concurrent may not depend on util", errors[0])

    def test_module_may_not_depend_on_infrastructure(self):
        errors = lc.check([("//util:util", "//tools:helper")], MAP, INFRA)
        self.assertTrue(any("may not depend on tools" in e for e in errors), errors)

    def test_unknown_package_fails(self):
        errors = lc.check([("//mystery:x", "//util:util")], MAP, INFRA)
        self.assertTrue(any("'mystery' is neither a module" in e for e in errors), errors)

    def test_package_cycle_names_closing_edge(self):
        edges = [("//demos:a", "//bench:b"), ("//bench:b", "//demos:c")]
        errors = lc.check(edges, MAP, INFRA)
        self.assertEqual(len(errors), 1)
        self.assertIn("package cycle bench -> demos -> bench", errors[0])
        self.assertIn("closed by edge //demos:a -> //bench:b", errors[0])

    def test_map_with_cycle_fails(self):
        cyclic = {"util": ["escape"], "escape": ["util"]}
        errors = lc.check([], cyclic, INFRA)
        self.assertTrue(any("module map has a cycle" in e for e in errors), errors)

    def test_map_naming_unknown_module_fails(self):
        errors = lc.check([], {"util": ["nope"]}, INFRA)
        self.assertTrue(any("'nope', which is not a module" in e for e in errors), errors)

    def test_parse_graph(self):
        text = 'digraph mygraph {\n  node [shape=box];\n  "//a:b"\n  "//a:b" -> "//c:d"\n}\n'
        self.assertEqual(lc.parse_graph(text), [("//a:b", "//c:d")])

    def test_repo_map_is_consistent(self):
        path = os.path.join(os.path.dirname(__file__), "module_map.bzl")
        with open(path) as f:
            module_map, infrastructure = lc.load_map(f.read())
        self.assertIn("web", module_map)
        self.assertIn("tools", infrastructure)
        self.assertEqual(lc.check_map(module_map), [])


if __name__ == "__main__":
    unittest.main()
