#!/bin/bash
# Writes /run/squid/squid.conf from the environment, checks it and runs Squid in the foreground.
#   SANDFLEET_EGRESS_DENY_CIDRS      extra destinations to deny (CIDRs, space or comma separated)
#   SANDFLEET_EGRESS_ALLOW           destinations opened despite the denials: CIDR, ip:port or host:port
#   SANDFLEET_EGRESS_ALLOWED_DOMAINS when set, only these domains (".example.com" = and subdomains)
#   SANDFLEET_EGRESS_PORT            listening port (default 3128)
set -euo pipefail
conf=/run/squid/squid.conf
port=${SANDFLEET_EGRESS_PORT:-3128}
words() { tr ',' ' ' <<<"${1:-}"; }

# Never the public internet: this host and its bridges, private and shared ranges, link-local
# (cloud metadata), multicast, reserved, and their IPv6 equivalents.
deny=(0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 192.0.0.0/24
  192.0.2.0/24 192.168.0.0/16 198.18.0.0/15 198.51.100.0/24 203.0.113.0/24 224.0.0.0/4 240.0.0.0/4
  ::/128 ::1/128 ::ffff:0:0/96 64:ff9b::/96 100::/64 2001:db8::/32 fc00::/7 fe80::/10 ff00::/8)
# This container's gateways are the host (whatever their range): deny them as well.
while read -r _ dest gw _; do
  [[ $gw =~ ^[0-9A-F]{8}$ && $gw != 00000000 ]] || continue
  deny+=("$(printf '%d.%d.%d.%d/32' 0x"${gw:6:2}" 0x"${gw:4:2}" 0x"${gw:2:2}" 0x"${gw:0:2}")")
done < <(tail -n +2 /proc/net/route)
for cidr in $(words "${SANDFLEET_EGRESS_DENY_CIDRS:-}"); do deny+=("$cidr"); done

{
  echo "http_port $port"
  echo 'pid_filename none'
  echo 'pinger_enable off'
  echo 'cache deny all'
  echo 'cache_mem 8 MB'
  echo 'via off'
  echo 'forwarded_for delete'
  echo 'httpd_suppress_version_string on'
  echo 'shutdown_lifetime 1 seconds'
  echo 'cache_log stdio:/dev/stderr'
  echo 'cache_store_log none'
  echo 'logfile_rotate 0'
  # One line per request, to stdout (the stdio module writes each record at once): the worker follows the container's log and
  # attributes each line to a step by the client address (each step has a network of its own).
  echo 'logformat sandfleet sandfleet-egress %ts.%03tu %>a %>la %Ss/%03>Hs %>st %<st %rm %#>rd %>rP %#ru'
  echo 'access_log stdio:/dev/stdout logformat=sandfleet'
  echo "acl sandfleet_denied dst ${deny[*]}"
  echo 'acl manager_url url_regex -i ^cache_object:// /squid-internal-mgr/'
  echo 'http_access deny manager_url'
  echo 'http_access deny manager'
  i=0
  for entry in $(words "${SANDFLEET_EGRESS_ALLOW:-}"); do
    i=$((i + 1))
    if [[ $entry == */* || $entry =~ ^[0-9.]+$ || $entry == *:*:* ]]; then
      echo "acl sandfleet_allow_$i dst $entry"
      echo "http_access allow sandfleet_allow_$i"
    else
      host=${entry%:*} p=${entry##*:}
      [[ $p =~ ^[0-9]+$ && -n $host ]] || { echo "SANDFLEET_EGRESS_ALLOW: bad entry $entry (CIDR, ip:port or host:port)" >&2; exit 64; }
      if [[ $host =~ ^[0-9.]+$ ]]; then echo "acl sandfleet_allow_$i dst $host/32"; else echo "acl sandfleet_allow_$i dstdomain $host"; fi
      echo "acl sandfleet_allow_port_$i port $p"
      echo "http_access allow sandfleet_allow_$i sandfleet_allow_port_$i"
    fi
  done
  echo 'http_access deny sandfleet_denied'
  domains=$(words "${SANDFLEET_EGRESS_ALLOWED_DOMAINS:-}")
  if [[ -n ${domains// /} ]]; then
    echo "acl sandfleet_domains dstdomain $domains"
    echo 'http_access deny !sandfleet_domains'
  fi
  echo 'http_access allow all'
} >"$conf"

squid -k parse -f "$conf" 2>/dev/null || { squid -k parse -f "$conf"; exit 78; }
exec squid -N -f "$conf"
