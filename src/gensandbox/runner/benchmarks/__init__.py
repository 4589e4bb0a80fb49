"""Public benchmarks as they are published: each layout (layouts.py) reads one benchmark's files."""

from gensandbox.runner.benchmarks.layouts import (
    FILE_SUFFIXES,
    INSTRUCTIONS,
    LAYOUTS,
    BenchmarkLayout,
    benchmark_files,
    detect_layout,
    load_benchmark,
)

__all__ = [
    "FILE_SUFFIXES",
    "INSTRUCTIONS",
    "LAYOUTS",
    "BenchmarkLayout",
    "benchmark_files",
    "detect_layout",
    "load_benchmark",
]
