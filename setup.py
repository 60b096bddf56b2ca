"""Builds lookalike._core by driving CMake (the pybind11 cmake_example pattern; works offline).

Environment:
  LOOKALIKE_BUILD_DIR   CMake build folder (default: build/py<major><minor>)
  LOOKALIKE_CMAKE_ARGS  extra arguments for the configure step
  LOOKALIKE_JOBS        parallel build jobs (default: cores)
"""
import os
import shlex
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: CMakeExtension) -> None:
        out_dir = Path(self.get_ext_fullpath(ext.name)).resolve().parent
        build_dir = Path(os.environ.get("LOOKALIKE_BUILD_DIR",
                                        ROOT / "build" / f"py{sys.version_info[0]}{sys.version_info[1]}"))
        build_dir.mkdir(parents=True, exist_ok=True)
        generator = ["-G", "Ninja"] if subprocess.run(["which", "ninja"], capture_output=True).returncode == 0 else []
        configure = [
            "cmake", str(ROOT), *generator,
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-DLOOKALIKE_PYTHON_OUTPUT_DIR={out_dir}",
            "-DCMAKE_BUILD_TYPE=Release",
            *shlex.split(os.environ.get("LOOKALIKE_CMAKE_ARGS", "")),
        ]
        subprocess.run(configure, cwd=build_dir, check=True)
        jobs = os.environ.get("LOOKALIKE_JOBS", str(os.cpu_count() or 2))
        subprocess.run(["cmake", "--build", ".", "--parallel", jobs], cwd=build_dir, check=True)


setup(ext_modules=[CMakeExtension("lookalike._core")], cmdclass={"build_ext": CMakeBuild})
