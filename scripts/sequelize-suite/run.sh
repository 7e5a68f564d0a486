#!/usr/bin/env bash
# scripts/sequelize-suite/run.sh DIALECT MODE [mocha spec globs or options…]
#
# Sequelize's own integration suite on another dialect, with the library as the shared PostgreSQL harness
# (../shared/tools/sequelize-suite) runs it: A without the library, B installed without receivers, C with a
# no-op receiver on all 9 events of every model, D on the 3 after-events. DIALECT: mariadb, mysql (mysql2
# against MariaDB), sqlite, or postgres (then use the shared harness's run.sh instead).
#
# Needs the shared harness set up once (its setup.sh extracts and builds Sequelize into SUITE_WORK_DIR); this
# adds the dialect's driver to that tree, starts a throwaway MariaDB server with scripts/database.mjs (or uses
# a fresh SQLite file), and writes SUITE_WORK_DIR/results-DIALECT/MODE.{jsonl,out,log}. Compare with:
#   $SUITE_TOOL/compare.py --expected scripts/sequelize-suite-expected-DIALECT.txt "$SUITE_WORK_DIR/results-DIALECT"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
library=$(cd "$here/../.." && pwd)
tool=${SUITE_TOOL:-$library/../shared/tools/sequelize-suite}
work=${SUITE_WORK_DIR:-${TMPDIR:-/tmp}/sequelize-suite}
say() { echo "sequelize-suite: $*" >&2; }
die() { say "$*"; exit 1; }
[ $# -ge 2 ] || die "usage: run.sh mariadb|mysql|sqlite A|B|C|D [mocha specs or options…]"
dialect=$1 mode=$2; shift 2
case $dialect in mariadb | mysql | sqlite) ;; *) die "DIALECT must be mariadb, mysql or sqlite (postgres: the shared run.sh)";; esac
case $mode in A | B | C | D) ;; *) die "MODE must be A, B, C or D";; esac
seq=$work/sequelize
[ -f "$seq/.suite-built" ] || die "$work is not set up: run $tool/setup.sh SEQUELIZE_GIT_DIR first"
results=$work/results-$dialect
mkdir -p "$results" "$seq/node_modules"
ln -sfn .. "$seq/node_modules/sequelize"

# The dialect's driver beside the test dependencies, in the version Sequelize's own suite declares (its
# package.json devDependencies: mariadb 2, mysql2 2 for 6.37.8 — Sequelize 6 crashes on some of its own tests
# with the mariadb 3 driver, without this library too).
driver=$(node -p '({ mariadb: "mariadb", mysql: "mysql2", sqlite: "sqlite3" })[process.argv[1]]' "$dialect")
version=$(node -p 'require(process.argv[1]).devDependencies[process.argv[2]]' "$seq/package.json" "$driver")
installed=$(node -p 'try { require(process.argv[1]).version } catch { "" }' "$work/node_modules/$driver/package.json")
if [ -z "$installed" ] || ! node -e 'process.exit(require(process.argv[1]).satisfies(process.argv[2], process.argv[3]) ? 0 : 1)' \
  "$work/node_modules/semver" "$installed" "$version"; then
  say "installing $driver@$version into $work/node_modules"
  (cd "$work" && npm install --no-save --no-audit --no-fund "$driver@$version") >"$results/npm-driver.log" 2>&1 \
    || { tail -20 "$results/npm-driver.log" >&2; die "installing $driver failed"; }
fi

name=sequelize-bulk-signals
if [ "$mode" != A ]; then
  log=$results/$mode.build.log
  say "$mode: building and packing the library (log: $log)"
  (cd "$library" && npm run build && rm -rf "$work/pack" && mkdir -p "$work/pack" && npm pack --pack-destination "$work/pack") >"$log" 2>&1 \
    || { tail -20 "$log" >&2; die "building or packing failed"; }
  dest=$seq/node_modules/$name
  rm -rf "$dest"; mkdir -p "$dest"
  tar -xzf "$(ls "$work/pack"/*.tgz | head -n1)" -C "$dest" --strip-components=1
fi

# A throwaway server (MariaDB) or file (SQLite), stopped when the run ends.
env_file=$(mktemp)
server_pid=
cleanup() { [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$env_file"; }
trap cleanup EXIT
if [ "$dialect" = sqlite ]; then
  rm -f "$seq/test/config/../tmp/"*.sqlite 2>/dev/null || true
  : >"$env_file"
else
  node "$here/server.mjs" "$env_file" >"$results/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do [ -s "$env_file" ] && break; sleep 0.5; done
  [ -s "$env_file" ] || die "MariaDB did not start"
fi
# shellcheck disable=SC1090
. "$env_file"

has_spec=no
for a in "$@"; do case $a in test/* | *.js | *.ts) has_spec=yes ;; esac; done
[ "$has_spec" = yes ] || set -- "test/integration/**/*.test.[tj]s" "$@"
req=()
[ "$mode" = A ] || req=(-r "$here/install.cjs")
out=$results/$mode
rm -f "$out.jsonl" "$out.log"
say "$mode on $dialect: running mocha in $seq (spec output: $out.out)"
start=$(date +%s)
set +e
(
  cd "$seq"
  # The server runs without grant tables: any user name is root, with no password.
  export DIALECT=$dialect SEQ_HOST=${SEQ_HOST:-} SEQ_PORT=${SEQ_PORT:-} SEQ_DB=sequelize_test SEQ_USER=root SEQ_PW= \
    SUITE_MODE=$mode SUITE_LIBRARY=$name SUITE_REPORT_FILE=$out.jsonl SUITE_LOG=$out.log
  exec "$work/node_modules/.bin/mocha" -r ./test/registerEsbuild ${req[@]+"${req[@]}"} --reporter "$tool/reporter.js" "$@"
) >"$out.out" 2>&1
set -e
say "$mode on $dialect: mocha finished in $(($(date +%s) - start))s"
node -e '
  const fs = require("fs"); const [file, mode] = process.argv.slice(1);
  const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
  const n = (s) => lines.filter((r) => r.state === s).length;
  const done = lines.some((r) => r.state === "end");
  console.log(`${mode}: ${n("passed")} passed, ${n("failed")} failed${n("pending") ? `, ${n("pending")} pending` : ""}${done ? "" : " (the run did not finish)"}`);
  process.exit(done ? 0 : 1);
' "$out.jsonl" "$mode" || { tail -20 "$out.out" >&2; exit 1; }
