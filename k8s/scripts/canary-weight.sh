#!/usr/bin/env bash
# Move the share of traffic the canary gets (k8s/overlays/canary-istio or
# canary-gateway-api): 0 sends everything back to stable, 100 promotes it.
# See docs/kubernetes.md.
set -euo pipefail
SCRIPT=$(basename "$0")
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

usage () {
  cat <<USAGE
usage: $SCRIPT [options] --istio|--gateway-api PERCENT

Sets the canary's share of the weighted route to PERCENT (0-100) and the stable
track's to the rest. Istio: the http route named "weighted" of VirtualService
<name>; Gateway API: the last rule of HTTPRoute <name> (stable backend first,
canary second, as in k8s/overlays). Requests with \`x-canary: always\` keep going
to the canary. Before raising the share, check the canary pods are Available
(rollout.sh watch <name>-canary).

options:
      --istio             patch the VirtualService
      --gateway-api       patch the HTTPRoute
  -n, --namespace NS      namespace (default: the context's)
      --context NAME      kubectl context
      --name NAME         route name (default example-service)
  -h, --help              show this help

Environment: KUBECTL (default kubectl).
USAGE
}

mode=''
name=example-service
percent=''
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --istio|--gateway-api) [[ -z "$mode" ]] || die_usage 'choose one of --istio and --gateway-api'; mode=${1#--}; shift ;;
    -n|--namespace) needs_value "$1" $#; check_name "$1" "$2"; KUBECTL_ARGS+=(--namespace "$2"); shift 2 ;;
    --context) needs_value "$1" $#; KUBECTL_ARGS+=(--context "$2"); shift 2 ;;
    --name) needs_value "$1" $#; check_name "$1" "$2"; name=$2; shift 2 ;;
    -*) die_usage "unknown option '$1'" ;;
    *)
      [[ -z "$percent" ]] || die_usage "unexpected argument '$1'"
      [[ "$1" =~ ^(100|[1-9]?[0-9])$ ]] || die_usage "PERCENT must be a whole number from 0 to 100, got '$1'"
      percent=$1; shift ;;
  esac
done
[[ -n "$mode" ]] || die_usage 'choose --istio or --gateway-api'
[[ -n "$percent" ]] || die_usage 'missing PERCENT'
require_kubectl
stable=$((100 - percent))

if [[ "$mode" == istio ]]; then
  names=$(kube get "virtualservice/$name" -o jsonpath='{range .spec.http[*]}{.name}{"\n"}{end}') || die "cannot read virtualservice/$name"
  index=$(printf '%s\n' "$names" | grep -n '^weighted$' | cut -d: -f1 || true)
  [[ -n "$index" ]] || die "virtualservice/$name has no http route named \"weighted\""
  path="/spec/http/$((index - 1))/route"
  kube patch "virtualservice/$name" --type=json \
    -p "[{\"op\":\"replace\",\"path\":\"$path/0/weight\",\"value\":$stable},{\"op\":\"replace\",\"path\":\"$path/1/weight\",\"value\":$percent}]"
else
  count=$(kube get "httproute/$name" -o jsonpath='{range .spec.rules[*]}x{"\n"}{end}' | grep -c x || true)
  [[ "$count" -gt 0 ]] || die "httproute/$name has no rules"
  path="/spec/rules/$((count - 1))/backendRefs"
  kube patch "httproute/$name" --type=json \
    -p "[{\"op\":\"replace\",\"path\":\"$path/0/weight\",\"value\":$stable},{\"op\":\"replace\",\"path\":\"$path/1/weight\",\"value\":$percent}]"
fi
echo "$SCRIPT: $name: stable $stable %, canary $percent %"
