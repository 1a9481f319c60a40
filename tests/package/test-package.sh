#!/usr/bin/env bash
# The Debian package, end to end on this machine (as root, Debian 12; systemd
# need not be PID 1, and is not in CI):
#
#   1. build it with the documented command (deploy/package.sh), and lintian
#      it: no error and no warning (overrides, with their reasons, are in
#      debian/chokepoint.lintian-overrides);
#   2. dpkg -i: the files, the conffile, the user, the log directory, the
#      unit enabled, a manual page for every command whose --help works;
#   3. chokepoint check on the installed conffile, as root and as the user;
#   4. serve: the unit's ExecStartPre and ExecStart lines as systemd would run
#      them (its User, Group, UMask, NoNewPrivileges and capabilities, through
#      setpriv), plus loopback ports and a --connect-to pointing the allowed
#      destination at an upstream this test starts on 127.0.0.1: a CONNECT
#      the catalog allows gets 200 and the upstream's page, one it does not
#      gets 403, both leave records in /var/log/chokepoint; SIGHUP reloads
#      the conffile as the user; SIGTERM drains and exits 0. No packet
#      leaves the machine;
#   5. an upgrade to a rebuilt package (VERSION_SUFFIX): an edited conffile
#      is kept, and what the maintainer scripts ask systemd (recorded by a
#      stand-in systemctl, since no systemd runs here) is a reload, never a
#      stop or restart;
#   6. dpkg -r keeps the configuration, dpkg --purge leaves nothing: no
#      user, no group, no /etc/chokepoint, no /var/log/chokepoint, no file
#      owned by the user's old uid.
#
# It replaces an installed chokepoint package, and purges it at the end.
set -uo pipefail
cd "$(dirname "$0")/../.."
source=$PWD

passed=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one assertion
  local what=$1
  shift
  if ("$@") >/tmp/chokepoint-package-check.out 2>&1; then
    passed=$((passed + 1))
    echo "ok   $what"
  else
    failed=$((failed + 1))
    echo "FAIL $what"
    sed 's/^/     | /' /tmp/chokepoint-package-check.out | head -20
  fi
}
fatal() {
  echo "FAIL $*"
  failed=$((failed + 1))
  finish
}
same() {  # same GOT EXPECTED
  [[ $1 == "$2" ]] || { echo "got '$1', expected '$2'"; return 1; }
}
finish() {
  echo "package: $passed passed, $failed failed"
  exit $((failed > 0))
}

[[ $(id -u) == 0 ]] || { echo "test-package.sh: run as root (it installs the package)" >&2; exit 2; }
deploy/install-packages.sh lintian curl openssl python3 logrotate util-linux

work=$(mktemp -d /tmp/chokepoint-package.XXXXXX)
chmod 0755 "$work"
pids=()
made_run_systemd=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  [[ -n $made_run_systemd ]] && rmdir /run/systemd/system 2>/dev/null
  if dpkg-query -W -f='${Status}' chokepoint 2>/dev/null | grep -qv "not-installed"; then
    PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg --purge chokepoint >/dev/null 2>&1
  fi
  rm -rf "$work" /tmp/chokepoint-package-check.out
}
trap cleanup EXIT

if dpkg-query -W -f='${Status}' chokepoint 2>/dev/null | grep -qv "not-installed"; then
  echo "== purging the chokepoint package installed before this test"
  dpkg --purge chokepoint >/dev/null
fi
# What a purge must remove must not be there before the install, or the test could not tell.
getent passwd chokepoint >/dev/null &&
  fatal "a user chokepoint exists without the package: the purge check could not tell (userdel chokepoint)"
leftovers=$(ls -d /etc/chokepoint /var/log/chokepoint /lib/systemd/system/chokepoint.service \
  /var/lib/systemd/deb-systemd-helper-enabled/*chokepoint* 2>/dev/null)
[[ -z $leftovers ]] || fatal "left over without the package (remove them first): $leftovers"

# --- 1. build and lintian ---------------------------------------------------
echo "== build (deploy/package.sh)"
start=$SECONDS
deploy/package.sh >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fatal "deploy/package.sh"; }
deb=$(tail -1 "$work/build.log")
echo "built $deb in $((SECONDS - start)) s ($(du -k "$deb" | cut -f1) KiB)"
version=$(dpkg-deb -f "$deb" Version)
project_version=$(sed -n 's/^project(chokepoint VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
check "the package's version is CMakeLists.txt's ($project_version)" same "$version" "$project_version"
check "Depends is computed from the binary (libc6, libssl3, libre2-9, ...)" \
  bash -c "dpkg-deb -f '$deb' Depends | grep -q 'libc6 (>=' && dpkg-deb -f '$deb' Depends | grep -q libre2"
check "no -dev package among the dependencies" \
  bash -c "! dpkg-deb -f '$deb' Depends Recommends | grep -- '-dev'"

echo "== lintian"
# lintian refuses nothing for running as root but says so; the rest is its report.
lintian --fail-on error,warning --info --display-info "$deb" 2>&1 |
  grep -v "running with root privileges" | tee "$work/lintian.txt"
lintian_status=${PIPESTATUS[0]}
check "lintian: no error, no warning" test "$lintian_status" = 0

# --- 2. install -------------------------------------------------------------
echo "== dpkg -i"
dpkg -i "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fatal "dpkg -i $deb"; }
check "installed files match the package (dpkg --verify)" bash -c '[[ -z $(dpkg --verify chokepoint) ]]'
check "/usr/bin/chokepoint: root, 0755" test "$(stat -c %U:%a /usr/bin/chokepoint)" = root:755
check "/etc/chokepoint/chokepoint.yaml is a conffile" \
  bash -c "dpkg-query -W -f='\${Conffiles}' chokepoint | grep -q '^ /etc/chokepoint/chokepoint.yaml '"
check "the conffile is the tree's deploy/chokepoint.yaml" cmp /etc/chokepoint/chokepoint.yaml deploy/chokepoint.yaml
check "the conffile and /etc/chokepoint: root, not writable by others" \
  bash -c '[[ $(stat -c %U:%a /etc/chokepoint/chokepoint.yaml) == root:644 && $(stat -c %U:%a /etc/chokepoint) == root:755 ]]'
check "user chokepoint: system uid, no login, no home" \
  bash -c 'IFS=: read -r _ _ uid gid _ home shell < <(getent passwd chokepoint) &&
           (( uid < 1000 )) && [[ $home == /nonexistent && $shell == /usr/sbin/nologin && ! -e /nonexistent ]] &&
           [[ $(getent group chokepoint | cut -d: -f3) == "$gid" ]]'
check "/var/log/chokepoint: chokepoint:chokepoint, 0750" \
  test "$(stat -c %U:%G:%a /var/log/chokepoint)" = chokepoint:chokepoint:750
unit=/lib/systemd/system/chokepoint.service
check "the unit is the tree's deploy/systemd/chokepoint.service" cmp "$unit" deploy/systemd/chokepoint.service
check "the unit is enabled (multi-user.target wants it)" \
  test -L /etc/systemd/system/multi-user.target.wants/chokepoint.service
check "the logrotate file is the tree's, and logrotate accepts it" \
  bash -c 'cmp /etc/logrotate.d/chokepoint deploy/logrotate/chokepoint && logrotate --debug /etc/logrotate.d/chokepoint'
check "manual page chokepoint(1)" test -s /usr/share/man/man1/chokepoint.1.gz
for command in $(/usr/bin/chokepoint --help | sed -n 's/^  chokepoint \[\{0,1\}\([a-z][a-z-]*\).*/\1/p' | sort -u); do
  help=$(/usr/bin/chokepoint "$command" --help </dev/null 2>/dev/null) || help=""
  if [[ $help == usage:* ]]; then
    check "manual page chokepoint-$command(1), since its --help works" \
      test -s "/usr/share/man/man1/chokepoint-$command.1.gz"
  fi
done

# --- 3. check ---------------------------------------------------------------
echo "== chokepoint check"
check "chokepoint check --config /etc/chokepoint/chokepoint.yaml (root)" \
  /usr/bin/chokepoint check --config /etc/chokepoint/chokepoint.yaml
check "... and as the chokepoint user, as ExecStartPre runs it" \
  setpriv --reuid=chokepoint --regid=chokepoint --init-groups \
  /usr/bin/chokepoint check --config /etc/chokepoint/chokepoint.yaml

# --- 4. serve ---------------------------------------------------------------
echo "== serve as the unit would"
# The value of KEY= in the unit, continuation lines joined.
unit_value() { sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$unit" | sed -n "s/^$1=//p" | tr -s ' '; }
user=$(unit_value User)
group=$(unit_value Group)
caps=$(unit_value AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
[[ $(unit_value NoNewPrivileges) == yes ]] || fatal "the unit no longer sets NoNewPrivileges=yes"
umask=$(unit_value UMask)
as_unit() {  # becomes COMMAND with the unit's user, group, umask, NoNewPrivileges, capabilities
  umask "$umask"
  exec setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs \
    --inh-caps=-all,"$caps" --ambient-caps=-all,"$caps" --bounding-set=-all,"$caps" "$@"
}
read -r proxy_port admin_port upstream_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
# The upstream: TLS on loopback with a throwaway certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=iaus.activeupdate.trendmicro.com -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
openssl s_server -quiet -www -accept "127.0.0.1:$upstream_port" \
  -cert "$work/cert.pem" -key "$work/key.pem" >"$work/upstream.log" 2>&1 &
pids+=($!)

read -ra start_pre <<<"$(unit_value ExecStartPre)"
read -ra exec_start <<<"$(unit_value ExecStart)"
check "ExecStartPre as the unit's user: ${start_pre[*]}" as_unit "${start_pre[@]}"
as_unit "${exec_start[@]}" --listen "127.0.0.1:$proxy_port" --admin "127.0.0.1:$admin_port" \
  --connect-to "iaus.activeupdate.trendmicro.com:443:127.0.0.1:$upstream_port" \
  >"$work/proxy.log" 2>&1 &
proxy_pid=$!
pids+=("$proxy_pid")
for _ in $(seq 100); do
  grep -q "threads, audit to" "$work/proxy.log" && break
  kill -0 "$proxy_pid" 2>/dev/null || break
  sleep 0.1
done
sed 's/^/     | /' "$work/proxy.log"
check "it serves: ${exec_start[*]} ..." grep -q "listening on 127.0.0.1:$proxy_port" "$work/proxy.log"
check "it runs as chokepoint, with no capability left after binding" \
  bash -c "[[ \$(stat -c %U /proc/$proxy_pid) == chokepoint ]] &&
           grep -q '^CapEff:\s*0*$' /proc/$proxy_pid/status && grep -q '^CapAmb:\s*0*$' /proc/$proxy_pid/status"

curl_proxy() { curl -sS --max-time 10 --noproxy '' -x "http://127.0.0.1:$proxy_port" "$@"; }
allowed=$(curl_proxy -k -o "$work/page.html" -w '%{http_connect} %{http_code}' \
  https://iaus.activeupdate.trendmicro.com/ 2>"$work/curl.err")
check "CONNECT iaus.activeupdate.trendmicro.com:443: 200, then 200 from the upstream through the tunnel" \
  same "$allowed" "200 200"
check "... and the upstream's page (openssl s_server -www)" grep -q 's_server' "$work/page.html"
denied=$(curl_proxy -o /dev/null -w '%{http_connect}' https://evil.example.com/ 2>"$work/curl.err")
check "CONNECT evil.example.com:443: 403" same "$denied" 403
audit=/var/log/chokepoint/audit.jsonl
for _ in $(seq 50); do grep -q '"event":"deny"' "$audit" 2>/dev/null && break; sleep 0.1; done
check "the audit records are in $audit: the open and the deny" \
  bash -c "grep -q '\"event\":\"open\".*iaus.activeupdate' $audit && grep -q '\"event\":\"deny\".*evil.example.com' $audit"
check "$audit: written by chokepoint, 0640 (the unit's UMask)" same "$(stat -c %U:%a "$audit")" chokepoint:640

# A reload re-reads the conffile as the user (the unit's ExecReload is SIGHUP).
generation() { curl -sS --noproxy '' "http://127.0.0.1:$admin_port/policy" | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }
before=$(generation)
kill -HUP "$proxy_pid"
for _ in $(seq 50); do [[ $(generation) != "$before" ]] && break; sleep 0.1; done
after=$(generation)
check "SIGHUP: the policy is reloaded from the conffile as $user (generation $before -> $after)" \
  test -n "$after" -a "$after" != "$before"
kill -TERM "$proxy_pid"
wait "$proxy_pid"
status=$?
check "SIGTERM: it drains and exits 0 ($(tail -1 "$work/proxy.log"))" \
  bash -c "[[ $status == 0 ]] && tail -1 '$work/proxy.log' | grep -q ' 0 lost'"

# --- 5. upgrade ---------------------------------------------------------------
echo "== upgrade, with an edited conffile"
# The same package under a higher version (what VERSION_SUFFIX=+x
# deploy/package.sh makes, without building it again).
dpkg-deb -R "$deb" "$work/next"
sed -i "s/^Version: .*/Version: $version+upgrade/" "$work/next/DEBIAN/control"
deb2=$work/chokepoint_$version+upgrade.deb
dpkg-deb --root-owner-group -b "$work/next" "$deb2" >/dev/null
echo "# edited by test-package.sh" >>/etc/chokepoint/chokepoint.yaml
edited=$(sha256sum </etc/chokepoint/chokepoint.yaml)
# No systemd here: stand-ins for systemctl and deb-systemd-invoke record what
# the maintainer scripts ask for, as they would ask a running systemd
# (/run/systemd/system), whatever this machine's policy-rc.d says.
mkdir -p "$work/bin"
for tool in systemctl deb-systemd-invoke; do
  printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$tool" "$work/systemctl.log" >"$work/bin/$tool"
  chmod +x "$work/bin/$tool"
done
if [[ ! -d /run/systemd/system ]]; then mkdir -p /run/systemd/system && made_run_systemd=1; fi
PATH="$work/bin:$PATH" dpkg -i "$deb2" >"$work/upgrade.log" 2>&1
upgrade_status=$?
[[ -n $made_run_systemd ]] && rmdir /run/systemd/system && made_run_systemd=""
sed 's/^/     | /' "$work/upgrade.log" "$work/systemctl.log" 2>/dev/null
check "dpkg -i of $(dpkg-deb -f "$deb2" Version) over $version" test "$upgrade_status" = 0
check "the edited conffile is kept" bash -c "[[ \$(sha256sum </etc/chokepoint/chokepoint.yaml) == '$edited' ]]"
check "the upgrade asks systemd for a reload of chokepoint.service" \
  grep -qx "deb-systemd-invoke try-reload-or-restart chokepoint.service" "$work/systemctl.log"
check "... and never to stop or restart it" \
  bash -c "! grep -E ' (stop|restart) ' '$work/systemctl.log'"
check "chokepoint check on the edited conffile" /usr/bin/chokepoint check --config /etc/chokepoint/chokepoint.yaml

# --- 6. remove, purge ---------------------------------------------------------
echo "== dpkg -r, then dpkg --purge"
uid=$(id -u chokepoint)
gid=$(id -g chokepoint)
dpkg -r chokepoint >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; fatal "dpkg -r"; }
check "dpkg -r removes the binary" test ! -e /usr/bin/chokepoint
check "... and keeps the conffile, the user and the logs" \
  bash -c 'test -f /etc/chokepoint/chokepoint.yaml && getent passwd chokepoint && test -d /var/log/chokepoint'
dpkg --purge chokepoint >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fatal "dpkg --purge"; }
sed 's/^/     | /' "$work/purge.log"
check "dpkg --purge removes the user chokepoint and its group" bash -c '! getent passwd chokepoint && ! getent group chokepoint'
check "... /etc/chokepoint" test ! -e /etc/chokepoint
check "... /var/log/chokepoint" test ! -e /var/log/chokepoint
check "... the unit, its enablement and the logrotate file" \
  bash -c '! ls /lib/systemd/system/chokepoint.service /etc/systemd/system/multi-user.target.wants/chokepoint.service \
             /etc/logrotate.d/chokepoint /var/lib/systemd/deb-systemd-helper-enabled/*chokepoint* 2>/dev/null | grep .'
check "... and no file owned by its old uid $uid or gid $gid" \
  bash -c "! find /etc /var /usr /opt /srv /run /tmp /home -xdev \\( -uid $uid -o -gid $gid \\) -print 2>/dev/null | grep ."

finish
