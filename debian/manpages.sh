#!/bin/sh
# Writes the manual pages from the binary's own help (help2man):
# chokepoint.1 from `chokepoint --help`, and chokepoint-COMMAND.1 for every
# command that `chokepoint --help` lists and whose `chokepoint COMMAND --help`
# prints a usage (exit 0, first line "usage: ..."). A command whose --help
# does not work yet is left out and named on stderr; once it works, its page
# appears without a change here.
#
#   debian/manpages.sh BINARY OUTDIR
set -eu
binary=$(realpath "$1")
out=$2
mkdir -p "$out"
rm -f "$out"/*.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

version=$("$binary" --version </dev/null)
version=${version#chokepoint }

# "  chokepoint [run] ..." and "  chokepoint check ...": the command names.
commands=$("$binary" --help </dev/null |
  sed -n 's/^  chokepoint \[\{0,1\}\([a-z][a-z-]*\).*/\1/p' | sort -u)
made=""
skipped=""
for command in $commands; do
  help=$(timeout 10 "$binary" "$command" --help </dev/null 2>/dev/null) || help=""
  case $help in
    usage:*) made="$made $command" ;;
    *) skipped="$skipped $command" ;;
  esac
done

page() {  # page NAME DESCRIPTION PROGRAM: NAME.1 from `PROGRAM --help`
  help2man --no-info --section=1 --source="chokepoint $version" \
    --version-string="$version" --name="$2" --include="$work/$1.h2m" \
    --output="$out/$1.1" "$3"
}
see_also() {
  printf '[SEE ALSO]\n.BR chokepoint (1)'
  for c in $made; do printf ',\n.BR chokepoint-%s (1)' "$c"; done
  printf '\n.PP\n/usr/share/doc/chokepoint/README.md, and the policy reference\n'
  printf '/usr/share/doc/chokepoint/policy/README.md.\n'
}

{
  printf '[FILES]\n.TP\n/etc/chokepoint/chokepoint.yaml\n'
  printf 'the site file the service runs (a conffile; it includes the built-in catalog)\n'
  printf '.TP\n/var/log/chokepoint/audit.jsonl\nthe service'"'"'s audit records, one JSON object per line\n'
  printf '.TP\n/lib/systemd/system/chokepoint.service\nthe unit: reload re-reads the policy, stop drains\n'
  see_also
} >"$work/chokepoint.h2m"
page chokepoint "egress filtering proxy for Trend Micro Deep Security" "$binary"

for command in $made; do
  # help2man names the page after the program it runs: a chokepoint-COMMAND.
  printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$binary" "$command" >"$work/chokepoint-$command"
  chmod +x "$work/chokepoint-$command"
  # NAME's text: the first sentence of the paragraph after the usage.
  summary=$("$binary" "$command" --help </dev/null |
    awk 'NF == 0 { if (seen) exit; blank = 1; next }
         blank { text = text (text ? " " : "") $0; seen = 1 }
         END { sub(/\. .*/, "", text); sub(/\.$/, "", text); print text }')
  see_also >"$work/chokepoint-$command.h2m"
  page "chokepoint-$command" "${summary:-chokepoint $command}" "$work/chokepoint-$command"
done
echo "manpages.sh: pages for chokepoint and:${made:- none}" >&2
if [ -n "$skipped" ]; then
  echo "manpages.sh: no usable --help yet, no page:$skipped" >&2
fi
