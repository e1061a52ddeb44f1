# Sourced by ./dirtylog and .ci/run: point JAVA_HOME at a JDK >= 25 or stop with one clear line.
# Order: $JAVA_HOME if it is a JDK >= 25, else the newest JDK >= 25 under /usr/lib/jvm.

jdk_major() {
  # Prints the major version of the JDK at $1 ("25"), or nothing if it is not a JDK.
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  local line
  line=$(grep -E '^JAVA_VERSION=' "$1/release" 2>/dev/null | head -n 1)
  line=${line#JAVA_VERSION=}; line=${line//\"/}
  # "25.0.1", "26-ea" and "27+3" all start with the major version.
  printf '%s\n' "${line%%[.+-]*}"
}

find_jdk25() {
  local major candidate best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ]; then
    major=$(jdk_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge 25 ] 2>/dev/null; then
      return 0
    fi
  fi
  for candidate in /usr/lib/jvm/*; do
    [ -d "$candidate" ] || continue
    major=$(jdk_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ] 2>/dev/null && [ "$major" -gt "$best_major" ]; then
      best=$candidate; best_major=$major
    fi
  done
  if [ -z "$best" ]; then
    echo "dirtylog: no JDK 25 or newer found (JAVA_HOME=${JAVA_HOME:-unset}, nothing >= 25 under /usr/lib/jvm); install one, e.g. Temurin 25, and set JAVA_HOME to it." >&2
    return 2
  fi
  export JAVA_HOME=$best
}
