#!/usr/bin/env bash
# Switch the blue-green Service (k8s/overlays/blue-green) to the other colour,
# only once that colour is available and answers its readiness endpoint; run it
# again (or name the old colour) to switch back. See docs/kubernetes.md.
# A selector switch changes the endpoints, not the connections already open:
# pooled clients follow it as their connections end, which the plugin's
# connection max age makes happen within about a minute (measured with
# `rollout --strategy blue-green`, docs/load-test.md).
set -euo pipefail
SCRIPT=$(basename "$0")
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

usage () {
  cat <<USAGE
usage: $SCRIPT [options] [blue|green]

Switches Service <service> to Deployment <service>-<colour> (default: the colour
it does not point at now, so running it twice switches back):
  1. waits until <service>-<colour> has rolled out and is Available;
  2. checks its readiness endpoint through its own Service <service>-<colour>
     (via the API server proxy) --checks times in a row;
  3. patches spec.selector.version of <service>;
  4. checks that <service> now has ready endpoints, and switches back if not.
The switch moves new connections at once, not the ones already open: kube-proxy
keeps an established connection on its pod and pooled clients (Node's agent,
undici, gRPC channels) reuse theirs. With fastify-zero-downtime's connection max
age (connectionMaxAgeMs, 30 s by default) they move within about 35 s
(measured); without it, not until the old colour's pods drain. A switch back
moves traffic the same way, no faster. The old colour keeps running: scale it
down once traffic has followed (docs/kubernetes.md).

options:
  -n, --namespace NS      namespace (default: the context's)
      --context NAME      kubectl context
      --service NAME      the Service clients use (default example-service)
      --timeout DURATION  how long to wait for the colour (default 5m)
      --ready-path PATH   readiness path checked (default /ready)
      --checks N          consecutive good readiness answers needed (default 3)
      --dry-run           check everything, change nothing
  -h, --help              show this help

Environment: KUBECTL (default kubectl).
USAGE
}

service=example-service
timeout=5m
ready_path=/ready
checks=3
dry_run=false
target=''
namespace=''
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    -n|--namespace) needs_value "$1" $#; check_name "$1" "$2"; KUBECTL_ARGS+=(--namespace "$2"); namespace=$2; shift 2 ;;
    --context) needs_value "$1" $#; KUBECTL_ARGS+=(--context "$2"); shift 2 ;;
    --service) needs_value "$1" $#; check_name "$1" "$2"; service=$2; shift 2 ;;
    --timeout) needs_value "$1" $#; check_duration "$1" "$2"; timeout=$2; shift 2 ;;
    --ready-path) needs_value "$1" $#
      [[ "$2" =~ ^/[-A-Za-z0-9_./]*$ ]] || die_usage "--ready-path must be an absolute URL path, got '$2'"
      ready_path=$2; shift 2 ;;
    --checks) needs_value "$1" $#
      [[ "$2" =~ ^[1-9][0-9]?$ ]] || die_usage "--checks must be a number from 1 to 99, got '$2'"
      checks=$2; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    blue|green) [[ -z "$target" ]] || die_usage "colour given twice"; target=$1; shift ;;
    -*) die_usage "unknown option '$1'" ;;
    *) die_usage "colour must be blue or green, got '$1'" ;;
  esac
done
require_kubectl
if [[ -z "$namespace" ]]; then
  namespace=$(kube config view --minify -o jsonpath='{..namespace}')
  namespace=${namespace:-default}
fi

current=$(kube get "service/$service" -o jsonpath='{.spec.selector.version}') || die "cannot read service/$service"
case "$current" in
  blue) other=green ;;
  green) other=blue ;;
  *) die "service/$service selects version '$current'; expected blue or green (apply k8s/overlays/blue-green first)" ;;
esac
target=${target:-$other}
if [[ "$target" == "$current" ]]; then
  echo "$SCRIPT: service/$service already sends traffic to $target"
  exit 0
fi
deployment="$service-$target"

echo "$SCRIPT: waiting for deployment/$deployment (timeout $timeout)"
kube rollout status "deployment/$deployment" --timeout="$timeout" || die "deployment/$deployment did not roll out; nothing switched"
kube wait --for=condition=Available --timeout="$timeout" "deployment/$deployment" || die "deployment/$deployment is not Available; nothing switched"

# The colour's own Service reaches only its pods: check what the switch will expose.
for ((i = 1; i <= checks; i++)); do
  kube get --raw "/api/v1/namespaces/$namespace/services/http:$deployment:http/proxy$ready_path" >/dev/null \
    || die "$deployment answered $ready_path with an error (check $i of $checks); nothing switched"
  sleep 1
done
echo "$SCRIPT: $deployment is ready ($checks checks of $ready_path)"

if [[ "$dry_run" == true ]]; then
  echo "$SCRIPT: dry run: would switch service/$service from $current to $target"
  exit 0
fi
kube patch "service/$service" --type=merge -p "{\"spec\":{\"selector\":{\"version\":\"$target\"}}}"
echo "$SCRIPT: service/$service now selects $target"

# The EndpointSlice controller follows the selector within a second or so.
ready=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
  ready=$(kube get endpointslices -l "kubernetes.io/service-name=$service" \
    -o jsonpath='{range .items[*].endpoints[*]}{.conditions.ready}{"\n"}{end}' | grep -c '^true$' || true)
  [[ "$ready" -gt 0 ]] && break
  sleep 1
done
if [[ "$ready" -eq 0 ]]; then
  kube patch "service/$service" --type=merge -p "{\"spec\":{\"selector\":{\"version\":\"$current\"}}}"
  die "service/$service had no ready endpoint on $target: switched back to $current"
fi
echo "$SCRIPT: $ready ready endpoints on $target; switch back with: $SCRIPT $current"
