"""Builds the vexil Python package: the extension vexil._vexil compiles the C
core (every csrc/**/*.c but the command's) together with the binding (python/vexil/_ext/*.c).

Metadata lives in pyproject.toml; this file only describes the extension and
compiles its sources in parallel, skipping objects that are up to date, so
that iterating on the binding does not rebuild the whole core.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from glob import glob

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def rel(pattern):
    return sorted(os.path.relpath(p, HERE) for p in glob(os.path.join(HERE, pattern), recursive=True))


# Every C file of the core, in every subsystem folder, but the `vexil` command's.
CORE = [p for p in rel("csrc/**/*.c") if not p.startswith(os.path.join("csrc", "cli", ""))]
BINDING = rel("python/vexil/_ext/*.c")
HEADERS = rel("csrc/**/*.h") + rel("python/vexil/_ext/*.h")


class ParallelBuildExt(build_ext):
    """Compiles each source at most once per change, on every core."""

    def build_extension(self, ext):
        cc = self.compiler
        macros = list(ext.define_macros) + [(name, None) for name in ext.undef_macros]
        newest_header = max((os.path.getmtime(h) for h in ext.depends), default=0)

        def obj_of(src):
            return cc.object_filenames([src], output_dir=self.build_temp)[0]

        def stale(src):
            obj = obj_of(src)
            return self.force or not os.path.exists(obj) or os.path.getmtime(obj) < max(
                os.path.getmtime(src), newest_header)

        def compile_one(src):
            return cc.compile([src], output_dir=self.build_temp, macros=macros,
                              include_dirs=ext.include_dirs, extra_postargs=ext.extra_compile_args,
                              depends=ext.depends)

        todo = [s for s in ext.sources if stale(s)]
        jobs = int(os.environ.get("VEXIL_BUILD_JOBS", os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(compile_one, todo))
        objects = [obj_of(s) for s in ext.sources]
        target = self.get_ext_fullpath(ext.name)
        if todo or not os.path.exists(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            cc.link_shared_object(objects, target, libraries=ext.libraries,
                                  extra_postargs=ext.extra_link_args,
                                  export_symbols=self.get_export_symbols(ext),
                                  target_lang="c")


setup(
    ext_modules=[
        Extension(
            "vexil._vexil",
            sources=CORE + BINDING,
            depends=HEADERS,
            include_dirs=["csrc/include", "csrc", "python/vexil/_ext"],
            define_macros=[("_GNU_SOURCE", None)],
            extra_compile_args=["-std=c11", "-O2", "-falign-functions=64", "-fvisibility=hidden", "-pthread",
                                "-Wall", "-Wno-unused-parameter"],
            extra_link_args=["-pthread"],
            libraries=["cjson", "yaml", "curl", "crypto", "snappy", "z", "zstd", "rdkafka", "m"],
        )
    ],
    cmdclass={"build_ext": ParallelBuildExt},
)
