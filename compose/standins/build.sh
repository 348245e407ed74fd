#!/usr/bin/env bash
# Stand-in `redis:7.2` and `postgres:15` images for machines that cannot pull from Docker Hub (this
# project's CI): a Debian bookworm minbase root filesystem (debootstrap, from the mirror apt uses)
# with Debian's redis-server / postgresql-15 and an entrypoint doing what the official image's does
# for the compose file, then `docker import`ed under the official tag. On a machine that can pull,
# do not run this: the official images are used as the compose file names them.
#
# Each image carries the label io.sluice.standin.recipe=<sha256 of this script and the entrypoints>; when the tag already
# exists with that label the build is skipped, so a machine debootstraps once per recipe.
#
#   compose/standins/build.sh [redis|postgres]...   (default: both; needs root and a Docker daemon)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RECIPE=$(cat "${BASH_SOURCE[0]}" "$HERE"/*-entrypoint.sh | sha256sum | cut -c1-16)
MIRROR=${SLUICE_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

build() {
  local name=$1 tag=$2 packages=$3 entrypoint=$4 cmd=$5 port=$6
  local have
  have=$(docker image inspect -f '{{index .Config.Labels "io.sluice.standin.recipe"}}' "$tag" 2>/dev/null || true)
  if [ "$have" = "$RECIPE" ]; then
    echo "standins: $tag is built (recipe $RECIPE)"
    return
  fi
  local start=$SECONDS work
  work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-standin-$name.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  echo "standins: debootstrap bookworm for $tag from $MIRROR"
  debootstrap --variant=minbase --include="$packages" bookworm "$work/root" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; return 1; }
  # The official images' volumes: the compose file mounts its named volumes there.
  mkdir -p "$work/root/data" "$work/root/var/lib/postgresql/data" "$work/root/docker-entrypoint-initdb.d"
  install -m 0755 "$HERE/$entrypoint" "$work/root/usr/local/bin/docker-entrypoint.sh"
  rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
  tar --numeric-owner -C "$work/root" -c . |
    docker import \
      -c "ENTRYPOINT [\"docker-entrypoint.sh\"]" -c "CMD $cmd" -c "EXPOSE $port" \
      -c "ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8" \
      -c "LABEL io.sluice.standin.recipe=$RECIPE" - "$tag" >/dev/null
  echo "standins: $tag built in $((SECONDS - start)) s (recipe $RECIPE)"
}

for what in "${@:-redis postgres}"; do
  for w in $what; do
    case "$w" in
      redis) build redis redis:7.2 redis-server,redis-tools redis-entrypoint.sh '["redis-server"]' 6379 ;;
      postgres) build postgres postgres:15 postgresql-15,postgresql-client-15 postgres-entrypoint.sh '["postgres"]' 5432 ;;
      *) echo "standins: unknown image $w (redis, postgres)" >&2; exit 2 ;;
    esac
  done
done
