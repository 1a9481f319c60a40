#!/bin/sh
# The iptables equivalent of nftables/chokepoint-transparent.nft, for hosts
# still on iptables. Edit the values, run as root; run again to replace.
set -eu
CLIENT_NETS4="10.0.0.0/16"            # comma-separated
CLIENT_NETS6=""                       # comma-separated; empty: no IPv6 rules
REDIRECT_PORTS="80,443,4119,4120,4122"
PROXY_PORT=3129
PASS_UDP="53,123"

apply() {  # $1: iptables or ip6tables, $2: client nets
  cmd=$1 nets=$2
  [ -n "$nets" ] || return 0
  $cmd -t nat -N CHOKEPOINT 2>/dev/null || $cmd -t nat -F CHOKEPOINT
  $cmd -t nat -D PREROUTING -j CHOKEPOINT 2>/dev/null || true
  $cmd -t nat -A PREROUTING -j CHOKEPOINT
  $cmd -t nat -A CHOKEPOINT -s "$nets" -p tcp -m multiport --dports "$REDIRECT_PORTS" -j REDIRECT --to-ports "$PROXY_PORT"

  $cmd -N CHOKEPOINT_FWD 2>/dev/null || $cmd -F CHOKEPOINT_FWD
  $cmd -D FORWARD -j CHOKEPOINT_FWD 2>/dev/null || true
  $cmd -A FORWARD -j CHOKEPOINT_FWD
  # QUIC: drop, so clients fall back to TCP where the SNI is seen.
  $cmd -A CHOKEPOINT_FWD -s "$nets" -p udp --dport 443 -j DROP
  $cmd -A CHOKEPOINT_FWD -s "$nets" -p udp -m multiport --dports "$PASS_UDP" -j ACCEPT
  $cmd -A CHOKEPOINT_FWD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  $cmd -A CHOKEPOINT_FWD -s "$nets" -j DROP
}

apply iptables "$CLIENT_NETS4"
apply ip6tables "$CLIENT_NETS6"
