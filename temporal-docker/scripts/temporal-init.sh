#!/bin/sh
# Runs on every `docker compose up` (temporalio/admin-tools), once the server is healthy: creates
# the namespace if it is missing and registers Orquestra's custom search attributes (Keyword).
# Idempotent: an existing namespace is left alone and already registered attributes are a no-op.
# (The app could register them itself through the operator service; doing it here means the API
# and the workers never start against a namespace that lacks them.)
set -eu

NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-720h}"
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
SEARCH_ATTRIBUTES="OrquestraTenantId OrquestraEntityType OrquestraEntityId"

# Resolve the host to an IPv4 address first, as the official samples-server scripts do.
host="${ADDRESS%:*}"
port="${ADDRESS##*:}"
ip="$(getent ahosts "$host" 2>/dev/null | grep STREAM | head -n 1 | awk '{print $1}')" || ip=""
[ -n "$ip" ] && ADDRESS="$ip:$port"

# retry <what> <command...>: up to 60 attempts, 2 s apart.
retry() {
  what="$1"
  shift
  i=1
  until "$@"; do
    if [ "$i" -ge 60 ]; then
      echo "gave up waiting for $what" >&2
      return 1
    fi
    echo "waiting for $what ($i)..."
    i=$((i + 1))
    sleep 2
  done
}

t() { temporal "$@" --address "$ADDRESS"; }

namespace_exists() { t operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; }

search_attributes_registered() {
  list="$(t operator search-attribute list --namespace "$NAMESPACE" --output json 2>/dev/null)" || return 1
  for sa in $SEARCH_ATTRIBUTES; do
    printf '%s\n' "$list" | grep -qw "$sa" || return 1
  done
}

retry "the Temporal frontend at $ADDRESS" t operator cluster health

if namespace_exists; then
  echo "namespace $NAMESPACE exists"
else
  echo "creating namespace $NAMESPACE (retention $RETENTION)"
  t operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" || namespace_exists
  retry "namespace $NAMESPACE" namespace_exists
fi

if search_attributes_registered; then
  echo "search attributes already registered: $SEARCH_ATTRIBUTES"
else
  args=""
  for sa in $SEARCH_ATTRIBUTES; do args="$args --name $sa --type Keyword"; done
  # Attributes that already exist with the same type are accepted by the server.
  # shellcheck disable=SC2086
  retry "search attribute registration" t operator search-attribute create --namespace "$NAMESPACE" $args
  retry "search attributes to be listed" search_attributes_registered
  # The frontend and history services refresh their namespace cache every ~10 s; give them
  # that long before the API and the workers start using the new attributes.
  echo 'search attributes registered; waiting for the namespace cache to refresh'
  sleep 15
fi
echo "Temporal namespace $NAMESPACE is ready"
