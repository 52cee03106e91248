#include "gen/gen.h"
#include <benchmark/benchmark.h>
static void BM_Dummy(benchmark::State& s){ for (auto _ : s) {} }
BENCHMARK(BM_Dummy);
