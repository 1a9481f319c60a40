#!/bin/sh
# A stand-in for a libFuzzer binary (tests/fuzz/run-fuzzers-test.sh): its
# name, <behaviour>_fuzz, says how it ends; it takes libFuzzer's arguments.
prefix='' corpus=''
for arg; do
  case $arg in
    -artifact_prefix=*) prefix=${arg#-artifact_prefix=} ;;
    -*) ;;
    *) corpus=$arg ;;
  esac
done
case $(basename "$0" _fuzz) in
  crash)
    printf 'CRASHING INPUT\000\001' >"${prefix}crash-0123"
    echo "==1==ERROR: AddressSanitizer: heap-buffer-overflow"
    exit 1
    ;;
  oom) printf 'large' >"${prefix}oom-4567" ;;
  timeout) printf 'slow' >"${prefix}timeout-89ab" ;;
  exit_1) exit 1 ;;
  good)
    # Only when run as the stage means to: its seeds copied, artifacts sent away.
    [ -n "$prefix" ] && [ -f "$corpus/seed" ] || exit 3
    echo "Done 3 runs in 1 second(s)"
    ;;
  *) exit 4 ;;
esac
