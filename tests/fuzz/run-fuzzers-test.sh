#!/usr/bin/env bash
# The fuzz stage (run-fuzzers.sh, given as $1) against stand-in fuzzers: any
# artifact or a non-zero exit fails it and shows the input; it passes only
# when every fuzzer behaves and every corpus has its fuzzer.
set -uo pipefail
stage=$1
stand_in=$(realpath "$(dirname "$0")/stand-in-fuzzer.sh")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# stage_on CASE FUZZERS CORPORA: the stage over those stand-ins and seed
# corpora (space-separated target names); sets `status` and `output`.
stage_on() {
  dir=$root/$1
  mkdir -p "$dir/bin" "$dir/corpus"
  for target in $2; do
    ln -s "$stand_in" "$dir/bin/${target}_fuzz"
  done
  for target in $3; do
    mkdir "$dir/corpus/$target"
    printf 'seed' >"$dir/corpus/$target/seed"
  done
  output=$(CHOKEPOINT_FUZZ_SECONDS=1 "$stage" "$dir/bin" "$dir/corpus" "$dir/work" 2>&1)
  status=$?
  echo "--- $1: exit $status"
  echo "$output"
}

expect_status() {
  [[ $status == "$1" ]] || fail "$case: exit $status, expected $1"
}

expect_output() {
  grep -qF -- "$1" <<<"$output" || fail "$case: no '$1' in the output"
}

case=good
stage_on $case "good" "good"
expect_status 0

for case in crash oom timeout; do
  stage_on $case "$case" "$case"
  expect_status 1
  expect_output "$dir/work/$case/artifacts/$case-"
  expect_output "add it to tests/fuzz/corpus/$case/ as a regression input"
  if [[ $case == crash ]]; then
    expect_output "43 52 41 53 48 49 4e 47"  # the input's start, in hex
    expect_output "heap-buffer-overflow"      # the fuzzer's own report
  fi
done

case=exit_1
stage_on $case "exit_1" "exit_1"
expect_status 1

# One failure neither hides another nor stops the rest.
case=several
stage_on $case "crash good oom" "crash good oom"
expect_status 1
expect_output "== good: Done"
expect_output "fuzzing failed: crash oom"

case=corpus_without_fuzzer
stage_on $case "good" "good crash"
expect_status 1

case=fuzzer_without_corpus
stage_on $case "good crash" "good"
expect_status 1

case=nothing
stage_on $case "" ""
expect_status 1

((failures == 0)) || exit 1
echo "the fuzz stage fails on every kind of finding and passes a clean run"
