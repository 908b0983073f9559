#!/bin/sh
# Builds the server and the load tools, then runs every scenario of docs/performance.md against a fresh process of
# each implementation, alternating: spice-streamd, the native relay (rw and splice; its C source is compiled here
# with the machine's gcc into target/perf/native, never committed as a binary) and the libspice-server reference
# (compiled against Debian's libspice-server-dev; left out with a warning where it does not build).
# Results: target/perf/results.{md,json} (override with --out DIR); other arguments go to
# org.spicestream.benchmarks.load.Scenarios (--repeat 3, --duration S, --only a,b, --impls server,relay-rw, ...).
# JMH: java -jar benchmarks/target/benchmarks.jar -prof gc
set -eu
cd "$(dirname "$0")/.."
if [ "${SKIP_BUILD:-}" != 1 ]; then
  mvn -q -pl distribution,benchmarks -am package -DskipTests
fi
exec java -cp benchmarks/target/benchmarks.jar org.spicestream.benchmarks.load.Scenarios --out target/perf "$@"
