#!/usr/bin/env bash
# The fuzz stage of tests/run-all.sh: each libFuzzer target in FUZZER_DIR
# (<target>_fuzz) runs from its seed corpus in CORPUS_DIR/<target>/ for
# CHOKEPOINT_FUZZ_SECONDS (60 by default). A target fails the stage when it
# exits non-zero or leaves any artifact (crash-, leak-, timeout-, oom-,
# slow-unit-, whatever libFuzzer names it) in WORK_DIR/<target>/artifacts/;
# every target runs either way, so one failure does not hide another.
#
#   tests/fuzz/run-fuzzers.sh FUZZER_DIR CORPUS_DIR WORK_DIR
set -uo pipefail
shopt -s nullglob
if (($# != 3)); then
  echo "usage: $0 FUZZER_DIR CORPUS_DIR WORK_DIR" >&2
  exit 2
fi
fuzzers=$1 corpora=$2 work_root=$3
seconds=${CHOKEPOINT_FUZZ_SECONDS:-60}

# The corpus folders name the targets; a target without its fuzzer, or a
# fuzzer without its corpus, is a broken build, not a pass.
targets=()
for dir in "$corpora"/*/; do
  targets+=("$(basename "$dir")")
done
failed=()
for fuzzer in "$fuzzers"/*_fuzz; do
  [[ -x $fuzzer ]] || continue
  target=$(basename "$fuzzer" _fuzz)
  if [[ ! -d $corpora/$target ]]; then
    echo "fuzzer $fuzzer has no seed corpus $corpora/$target/"
    failed+=("$target")
  fi
done
if ((${#targets[@]} == 0)); then
  echo "no seed corpora in $corpora"
  exit 1
fi

show_input() {  # target, artifact
  echo "  $2 ($(stat -c %s "$2") bytes), from its start:"
  od -A x -t x1z -v "$2" | head -n 16 | sed 's/^/    /'
  echo "  add it to tests/fuzz/corpus/$1/ as a regression input (named for what it exercises):"
  echo "  ctest replays it in every build (fuzz_replay_$1)"
}

for target in "${targets[@]}"; do
  fuzzer=$fuzzers/${target}_fuzz
  if [[ ! -x $fuzzer ]]; then
    echo "== $target: no fuzzer $fuzzer"
    failed+=("$target")
    continue
  fi
  work=$work_root/$target
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -r "$corpora/$target/." "$work/corpus/"
  # -timeout: a unit that takes this long is a hang (inputs are at most
  # max_len bytes); libFuzzer writes slow-unit- artifacts from 10 s on.
  "$fuzzer" -max_total_time="$seconds" -max_len=20000 -rss_limit_mb=2048 -timeout=30 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
  status=$?
  artifacts=("$work/artifacts"/*)
  if ((status == 0 && ${#artifacts[@]} == 0)); then
    echo "== $target: $(grep -E '^Done' "$work/log" || echo 'no summary line')"
    continue
  fi
  failed+=("$target")
  # The report from its first line (a sanitizer's or libFuzzer's), else the end of the log.
  first=$(grep -n -m1 -E '^==[0-9]+==|ERROR' "$work/log" | cut -d: -f1)
  echo "== $target FAILED: exit status $status, ${#artifacts[@]} artifact(s); from $work/log:"
  if [[ -n $first ]]; then
    tail -n +"$first" "$work/log" | head -n 40
  else
    tail -n 20 "$work/log"
  fi | sed 's/^/  | /'
  for artifact in "${artifacts[@]}"; do
    show_input "$target" "$artifact"
  done
done

if ((${#failed[@]})); then
  echo "== fuzzing failed: ${failed[*]}"
  exit 1
fi
echo "== fuzzing: ${#targets[@]} targets, ${seconds} s each, nothing found"
