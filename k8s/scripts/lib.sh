# Shared by the scripts in this folder: argument checks and the kubectl call.
# Every check runs before kubectl is touched, so bad arguments fail at once and
# without a cluster.

die_usage () { printf '%s: %s\n\nRun %s --help for usage.\n' "$SCRIPT" "$1" "$SCRIPT" >&2; exit 2; }
die () { printf '%s: %s\n' "$SCRIPT" "$1" >&2; exit 1; }

# Kubernetes object names (RFC 1123 label).
check_name () {
  [[ "$2" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ && ${#2} -le 63 ]] || die_usage "$1 must be a Kubernetes name (lowercase letters, digits, '-'), got '$2'"
}
# kubectl durations: 90s, 5m, 1h.
check_duration () {
  [[ "$2" =~ ^[1-9][0-9]*(s|m|h)$ ]] || die_usage "$1 must be a duration such as 90s, 5m or 1h, got '$2'"
}
# needs_value FLAG NEXT_ARG_COUNT: an option given without its value.
needs_value () { [[ "$2" -ge 2 ]] || die_usage "$1 needs a value"; }

KUBECTL=${KUBECTL:-kubectl}
KUBECTL_ARGS=()
kube () { "$KUBECTL" "${KUBECTL_ARGS[@]}" "$@"; }
require_kubectl () {
  command -v "$KUBECTL" >/dev/null 2>&1 || die "kubectl not found (set KUBECTL to its path)"
}
