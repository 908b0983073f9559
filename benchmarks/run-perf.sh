#!/bin/sh
# Builds the server and the load tools, then runs every scenario of docs/performance.md against a fresh
# spice-streamd process and the raw relay, alternating. Results: target/perf/results.{md,json} (override with
# --out DIR); other arguments go to org.spicestream.benchmarks.load.Scenarios (--duration S, --only a,b, ...).
# JMH: java -jar benchmarks/target/benchmarks.jar -prof gc
set -eu
cd "$(dirname "$0")/.."
if [ "${SKIP_BUILD:-}" != 1 ]; then
  mvn -q -pl distribution,benchmarks -am package -DskipTests
fi
exec java -cp benchmarks/target/benchmarks.jar org.spicestream.benchmarks.load.Scenarios --out target/perf "$@"
