"""Repository rules that wire Debian's packages in as Bazel repositories.

Each shim keeps the upstream repository name and target labels, so swapping a shim for
the upstream http_archive touches the WORKSPACE (deps.bzl) only.
"""

_MISSING = "%s: %s is missing; run ./bazelw, which installs the Debian packages the build needs"

def _write_workspace(rctx):
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)

def _multiarch(rctx):
    result = rctx.execute(["gcc", "-print-multiarch"])
    if result.return_code != 0 or not result.stdout.strip():
        fail("%s: `gcc -print-multiarch` failed; is g++ installed? %s" % (rctx.name, result.stderr))
    return result.stdout.strip()

def _expand_files(rctx, substitutions):
    for label, dest in rctx.attr.files.items():
        rctx.template(dest, label, substitutions, executable = False)

def _stand_in_repository_impl(rctx):
    _write_workspace(rctx)
    for label, dest in rctx.attr.files.items():
        rctx.symlink(label, dest)

# A repository made of files from this repo (offline stand-ins for Bazel's own deps).
stand_in_repository = repository_rule(
    implementation = _stand_in_repository_impl,
    attrs = {"files": attr.label_keyed_string_dict(allow_files = True)},
)

def _shared_libs_with_prefix(rctx, libdir, prefix):
    names = [f.basename for f in rctx.path(libdir).readdir()]
    libs = sorted([n[3:-3] for n in names if n.startswith("lib" + prefix) and n.endswith(".so")])
    if not libs:
        fail(_MISSING % (rctx.name, "%s/lib%s*.so" % (libdir, prefix)))
    return libs

def _system_library_impl(rctx):
    _write_workspace(rctx)
    multiarch = _multiarch(rctx)
    libdir = "/usr/lib/" + multiarch
    substitutions = {"@LIBDIR@": libdir}
    if rctx.attr.link_all_with_prefix:
        libs = _shared_libs_with_prefix(rctx, libdir, rctx.attr.link_all_with_prefix)
        flags = ", ".join(['"-l%s"' % lib for lib in libs])
        substitutions["@LINK_ALL@"] = '"-Wl,--push-state,--as-needed", %s, "-Wl,--pop-state"' % flags
    for dest, src in rctx.attr.system_paths.items():
        src = src.replace("@LIBDIR@", libdir).replace("@MULTIARCH@", multiarch)
        if not rctx.path(src).exists:
            fail(_MISSING % (rctx.name, src))
        rctx.symlink(src, dest)
    _expand_files(rctx, substitutions)

    # Sub-packages whose targets all forward to one umbrella target (abseil's layout).
    for package, targets in rctx.attr.forwarding_packages.items():
        rules = ['cc_library(name = "%s", deps = ["%s"])' % (t, rctx.attr.umbrella) for t in targets]
        rctx.file(
            package + "/BUILD.bazel",
            'package(default_visibility = ["//visibility:public"])\n\n' + "\n".join(rules) + "\n",
        )

# A repository over an installed Debian library: `files` maps this repo's BUILD file(s)
# to their place, `system_paths` maps a place in the repository to an absolute path.
# In both, @LIBDIR@ is the multiarch library directory; in system_paths, @MULTIARCH@
# is the multiarch triplet; in BUILD files, @LINK_ALL@ is
# the linkopts for every lib<link_all_with_prefix>*.so there (linked as needed).
system_library = repository_rule(
    implementation = _system_library_impl,
    attrs = {
        "files": attr.label_keyed_string_dict(allow_files = True),
        "system_paths": attr.string_dict(),
        "forwarding_packages": attr.string_list_dict(),
        "umbrella": attr.string(),
        "link_all_with_prefix": attr.string(),
    },
    local = True,
)
