#!/bin/sh
# Runs a benchmark binary once per case with a tiny time budget: it must not crash.
exec "$1" --benchmark_min_time=0.001
