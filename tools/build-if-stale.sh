# Sourced by ./javastor and bench/*.sh: the one place that decides whether the Maven build must run again.
#   build_if_stale STAMP MAVEN_ARGS...
# Runs `mvn MAVEN_ARGS` (offline first, then online) from the repository root when STAMP is missing or any source
# (a file under a module's src/, or a pom.xml) is newer than it; then touches STAMP. Quiet when nothing changed.
# The offline attempt is silent: on a fresh machine it fails for want of artifacts, and its errors are not the
# build's (a real build failure shows in the online attempt's output).
build_if_stale() {
  local stamp=$1 root
  shift
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [ -f "$stamp" ] && [ -z "$(find "$root" -path "$root/.git" -prune -o -path '*/target' -prune -o -path '*/node_modules' -prune \
        -o \( -path '*/src/*' -o -name pom.xml \) -type f -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  echo "# building: mvn $*" >&2
  (cd "$root" && { mvn -B -q -o "$@" >/dev/null 2>&1 || mvn -B -q "$@"; }) >&2
  mkdir -p "$(dirname "$stamp")" && touch "$stamp"
}
