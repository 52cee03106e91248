"""Prints every module package and the version its BUILD file declares.

`./bazelw run //tools:versions` (add `-- --markdown` for a README table). Reads the
`tornado_package(version = "x.y.z")` call of each top-level package's BUILD.bazel."""

import argparse
import os
import re
import sys

DECLARATION = re.compile(r'tornado_package\(\s*version\s*=\s*"(\d+\.\d+\.\d+)"\s*,?\s*\)')


def declared_version(build_text):
    """The version a BUILD file declares, or None when it is not a module package."""
    match = DECLARATION.search(build_text)
    return match.group(1) if match else None


def package_versions(root):
    """[(package, version)] for each top-level package of the repo at `root`, by name."""
    found = []
    for name in sorted(os.listdir(root)):
        build = os.path.join(root, name, "BUILD.bazel")
        if os.path.isfile(build):
            with open(build) as f:
                version = declared_version(f.read())
            if version:
                found.append((name, version))
    return found


def format_table(rows, markdown):
    if markdown:
        return "\n".join(["| package | version |", "|---|---|"] +
                         ["| `%s` | %s |" % row for row in rows])
    width = max([len("package")] + [len(name) for name, _ in rows])
    lines = ["%-*s  %s" % (width, "package", "version")]
    lines += ["%-*s  %s" % (width, name, version) for name, version in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    root = os.environ.get("BUILD_WORKSPACE_DIRECTORY", os.getcwd())
    rows = package_versions(root)
    if not rows:
        print("no module packages found under %s" % root, file=sys.stderr)
        return 1
    print(format_table(rows, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
