#!/usr/bin/env bash
# Builds a JRE base image as a `docker save` tarball without a registry or a Docker daemon, for
# `./mvnw -Dimages -Dimages.offline package` (Jib's `tar://` base) where Docker Hub cannot be
# reached. The production base stays eclipse-temurin:21-jre; this one is a stand-in made from the
# build machine: a jlink'ed runtime of the JDK running the build, the glibc libraries it links
# against, /tmp, and a passwd entry for the images' user (10001). No shell, no package manager, no
# curl: the compose health checks run io.sluice.health.HealthProbe in the image's own JVM.
#
#   compose/jre-base-image.sh OUT.tar [JAVA_HOME]
set -euo pipefail

OUT=${1:?usage: jre-base-image.sh OUT.tar [JAVA_HOME]}
JDK=${2:-${JAVA_HOME:?set JAVA_HOME or pass the JDK}}
[ -x "$JDK/bin/jlink" ] || { echo "jre-base-image: $JDK has no bin/jlink" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-jre-base.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/rootfs
JRE=/opt/java/openjdk

# What a Sluice process needs (SQL, JNDI for the JDBC driver, management for Micrometer, Netty's
# jdk.unsupported, DNS, HTTP client, EC crypto for TLS), as far as this JDK has each module.
wanted="java.se jdk.unsupported jdk.crypto.ec jdk.crypto.cryptoki jdk.management jdk.naming.dns jdk.net jdk.zipfs jdk.localedata jdk.charsets"
available=$("$JDK/bin/java" --list-modules | sed 's/@.*//')
modules=$(for m in $wanted; do grep -qx "$m" <<<"$available" && printf '%s,' "$m"; done)
# zip-6 is JDK 21's spelling; older JDKs know the same as 2.
compress=zip-6
"$JDK/bin/jlink" --list-plugins 2>/dev/null | grep -q 'zip-\[0-9\]' || compress=2
"$JDK/bin/jlink" --add-modules "${modules%,}" --strip-debug --no-man-pages --no-header-files \
  --compress="$compress" --output "$ROOT$JRE"

# The shared libraries the runtime links against, at the paths the loader looks for them.
for elf in "$ROOT$JRE/bin/java" $(find "$ROOT$JRE/lib" -name '*.so'); do
  ldd "$elf" 2>/dev/null | grep -oE '/[^ ]+' || true
done | sort -u | while read -r lib; do
  if [ -e "$lib" ] && [[ $lib != "$ROOT"* ]]; then
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
  fi
done

mkdir -p "$ROOT/tmp" "$ROOT/etc" "$ROOT/app"
chmod 1777 "$ROOT/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nsluice:x:10001:10001:sluice:/tmp:/sbin/nologin\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nsluice:x:10001:\n' >"$ROOT/etc/group"
printf 'hosts: files dns\n' >"$ROOT/etc/nsswitch.conf"

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
version=$("$JDK/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.version = //p')

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$ROOT" -cf "$WORK/layer.tar" .
digest=$(sha256sum "$WORK/layer.tar" | cut -d' ' -f1)
cat >"$WORK/config.json" <<JSON
{"architecture":"$arch","os":"linux","config":{"Env":["PATH=$JRE/bin:/usr/bin:/bin","JAVA_HOME=$JRE","LANG=C.UTF-8"],"User":"10001:10001"},"rootfs":{"type":"layers","diff_ids":["sha256:$digest"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"compose/jre-base-image.sh: jlink of Java $version, glibc from the build machine"}]}
JSON
printf '[{"Config":"config.json","RepoTags":["sluice/jre-base:%s"],"Layers":["layer.tar"]}]\n' \
  "$version" >"$WORK/manifest.json"
mkdir -p "$(dirname "$OUT")"
tar --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$WORK" -cf "$OUT" \
  manifest.json config.json layer.tar
echo "jre-base-image: $OUT (Java $version, $arch, $(du -h "$OUT" | cut -f1))"
