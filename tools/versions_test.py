"""Tests for versions: finds declared versions and ignores other packages."""

import os
import tempfile
import unittest

import versions


class VersionsTest(unittest.TestCase):
    def test_declared_version(self):
        self.assertEqual(versions.declared_version('tornado_package(version = "1.2.3")'), "1.2.3")
        self.assertEqual(versions.declared_version('tornado_package(\n    version = "0.10.0",\n)'),
                         "0.10.0")
        self.assertIsNone(versions.declared_version('cc_library(name = "x")'))

    def test_package_versions_lists_modules_only(self):
        with tempfile.TemporaryDirectory() as root:
            for name, text in [("util", 'tornado_package(version = "0.2.0")'),
                               ("escape", 'tornado_package(version = "1.0.0")'),
                               ("tools", 'py_binary(name = "x")')]:
                os.mkdir(os.path.join(root, name))
                with open(os.path.join(root, name, "BUILD.bazel"), "w") as f:
                    f.write(text)
            self.assertEqual(versions.package_versions(root),
                             [("escape", "1.0.0"), ("util", "0.2.0")])

    def test_format_table(self):
        table = versions.format_table([("util", "0.2.0")], markdown=False)
        self.assertEqual(table.splitlines()[1].split(), ["util", "0.2.0"])
        self.assertIn("| `util` | 0.2.0 |", versions.format_table([("util", "0.2.0")], True))


if __name__ == "__main__":
    unittest.main()
