"""The repository's benchmarks (not shipped in the wheel): bench/ann (Python, recall and QPS
against peers, run as ``python -m bench.ann.<runner>`` from the repository root) and bench/micro
(Google Benchmark, C++)."""
