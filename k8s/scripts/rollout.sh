#!/usr/bin/env bash
# Watch, pause, resume and roll back a Deployment's rollout, with the checks and
# hints a release needs. See docs/kubernetes.md.
set -euo pipefail
SCRIPT=$(basename "$0")
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

usage () {
  cat <<USAGE
usage: $SCRIPT <command> <deployment> [options]

commands:
  watch     follow the rollout until it completes or fails; on failure show the
            pods, recent events and how to roll back
  pause     pause the rollout (new pods already started keep running: check
            them, then resume or undo)
  resume    resume a paused rollout and watch it
  history   list the revisions kept (revisionHistoryLimit)
  undo      roll back to the previous revision (or --to-revision N) and watch it

options:
  -n, --namespace NS      namespace (default: the context's)
      --context NAME      kubectl context
      --timeout DURATION  how long to watch before failing (default 10m)
      --to-revision N     with undo: the revision to go back to (see history)
  -h, --help              show this help

The rollout itself drops nothing when the pods drain properly; run
\`fastify-zero-downtime check <url>\` during it to count failed requests.
Environment: KUBECTL (default kubectl).
USAGE
}

command=''
deployment=''
timeout=10m
revision=''
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    -n|--namespace) needs_value "$1" $#; check_name "$1" "$2"; KUBECTL_ARGS+=(--namespace "$2"); shift 2 ;;
    --context) needs_value "$1" $#; KUBECTL_ARGS+=(--context "$2"); shift 2 ;;
    --timeout) needs_value "$1" $#; check_duration "$1" "$2"; timeout=$2; shift 2 ;;
    --to-revision) needs_value "$1" $#
      [[ "$2" =~ ^[1-9][0-9]*$ ]] || die_usage "--to-revision must be a positive revision number, got '$2'"
      revision=$2; shift 2 ;;
    -*) die_usage "unknown option '$1'" ;;
    *)
      if [[ -z "$command" ]]; then command=$1
      elif [[ -z "$deployment" ]]; then deployment=${1#deployment/}
      else die_usage "unexpected argument '$1'"
      fi
      shift ;;
  esac
done

case "$command" in
  watch|pause|resume|history|undo) ;;
  '') die_usage 'missing command (watch, pause, resume, history or undo)' ;;
  *) die_usage "unknown command '$command' (watch, pause, resume, history or undo)" ;;
esac
[[ -n "$deployment" ]] || die_usage 'missing deployment name'
check_name deployment "$deployment"
[[ -z "$revision" || "$command" == undo ]] || die_usage '--to-revision goes with undo'
require_kubectl

watch () {
  if kube rollout status "deployment/$deployment" --timeout="$timeout"; then
    echo "$SCRIPT: deployment/$deployment rolled out"
    return 0
  fi
  echo "$SCRIPT: deployment/$deployment did not finish within $timeout" >&2
  kube get pods -l "$(kube get "deployment/$deployment" -o go-template='{{range $k, $v := .spec.selector.matchLabels}}{{$k}}={{$v}},{{end}}' | sed 's/,$//')" -o wide >&2 || true
  kube get events --field-selector "involvedObject.kind=Deployment,involvedObject.name=$deployment" --sort-by=.lastTimestamp >&2 || true
  echo "$SCRIPT: roll back with: $SCRIPT undo $deployment" >&2
  return 1
}

case "$command" in
  watch) watch ;;
  pause) kube rollout pause "deployment/$deployment"
    echo "$SCRIPT: paused; check the new pods, then: $SCRIPT resume $deployment (or undo)" ;;
  resume) kube rollout resume "deployment/$deployment"; watch ;;
  history) kube rollout history "deployment/$deployment" ;;
  undo)
    # A paused Deployment ignores the undo until resumed.
    if [[ "$(kube get "deployment/$deployment" -o jsonpath='{.spec.paused}')" == true ]]; then
      kube rollout resume "deployment/$deployment"
    fi
    if [[ -n "$revision" ]]; then kube rollout undo "deployment/$deployment" --to-revision="$revision"
    else kube rollout undo "deployment/$deployment"
    fi
    watch ;;
esac
