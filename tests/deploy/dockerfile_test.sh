#!/usr/bin/env bash
# Keeps the Dockerfile in step with the rest of the tree, since no Docker
# engine runs where the tests run:
#  - the build stage installs its packages with scripts/install-deps.sh;
#  - every package the runtime stage installs exists in Debian;
#  - every binary copied from the build stage is a CMake executable target,
#    at the path CMake builds it;
#  - the shared libraries those binaries load (ldd on this machine's build)
#    all come from packages the runtime stage installs, and every package it
#    installs provides one of them.
#   dockerfile_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src="${1:?usage: dockerfile_test.sh SOURCE_DIR BUILD_DIR}"
build="${2:?usage: dockerfile_test.sh SOURCE_DIR BUILD_DIR}"
dockerfile="$src/Dockerfile"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

[ -f "$dockerfile" ] || { echo "FAIL: no Dockerfile at $dockerfile" >&2; exit 1; }

# The Dockerfile with continuation lines joined and comments dropped; then
# split into the first (build) stage and the last (runtime) stage.
joined="$(sed -e '/^[[:space:]]*#/d' "$dockerfile" | sed -e ':a' -e '/\\$/{N;s/\\\n/ /;ba}')"
stages="$(grep -c '^FROM ' <<<"$joined")"
[ "$stages" -ge 2 ] || fail "the Dockerfile has $stages stage(s); expected a build and a runtime stage"
build_stage="$(awk '/^FROM /{n++} n==1' <<<"$joined")"
runtime_stage="$(awk -v last="$stages" '/^FROM /{n++} n==last' <<<"$joined")"
build_name="$(head -n 1 <<<"$build_stage" | awk 'toupper($3)=="AS"{print $4}')"

grep -q '^FROM debian:bookworm\( \|$\)' <<<"$build_stage" || fail "the build stage is not FROM debian:bookworm"
grep -q '^FROM debian:bookworm-slim' <<<"$runtime_stage" || fail "the runtime stage is not FROM debian:bookworm-slim"
grep -Eq '^RUN .*scripts/install-deps\.sh' <<<"$build_stage" \
  || fail "the build stage does not RUN scripts/install-deps.sh (it must install what a developer machine installs)"
grep -Eq '^USER ' <<<"$runtime_stage" || fail "the runtime stage sets no USER (it must not run as root)"
for word in VOLUME EXPOSE HEALTHCHECK ENTRYPOINT; do
  grep -Eq "^$word " <<<"$runtime_stage" || fail "the runtime stage has no $word"
done

# Runtime packages: the words after 'apt-get install' up to the end of that command.
packages=()
while read -r pkg; do packages+=("$pkg"); done < <(
  grep -E '^RUN .*apt-get install' <<<"$runtime_stage" \
    | sed -E 's/.*apt-get install//; s/(&&|;|\|).*//' | tr ' ' '\n' \
    | grep -E '^[a-z0-9][a-z0-9+.-]+$' | sort -u)
[ ${#packages[@]} -gt 0 ] || fail "the runtime stage installs no packages"
declare -A installs
for pkg in "${packages[@]}"; do installs[$pkg]=1; done
# One apt-cache call for all of them: each call reads the whole package cache.
known="$(apt-cache show --no-all-versions "${packages[@]}" 2>/dev/null | sed -n 's/^Package: //p')"
for pkg in "${packages[@]}"; do
  grep -qxF -- "$pkg" <<<"$known" || fail "runtime package '$pkg' is not known to apt (apt-cache show $pkg)"
done

# The binaries copied from the build stage, and the libraries each loads.
binary_libs=()  # "name path-of-library"
copied=0
while read -r from path; do
  [ "$from" = "--from=$build_name" ] || continue
  copied=$((copied + 1))
  name="$(basename "$path")"
  # /src/build/<tree>/<dir>/<name>: <dir>/CMakeLists.txt must build <name>.
  dir="$(dirname "$(sed -E 's#^.*/build/[^/]+/##' <<<"$path")")"
  if ! grep -Eq "add_executable\([[:space:]]*$name([[:space:]]|\))" "$src/$dir/CMakeLists.txt" 2>/dev/null; then
    fail "the Dockerfile copies $path, but $dir/CMakeLists.txt has no add_executable($name ...)"
    continue
  fi
  binary="$build/$dir/$name"
  if [ ! -x "$binary" ]; then
    fail "$binary is not built: build it first (scripts/build.sh release $name)"
    continue
  fi
  while read -r lib; do binary_libs+=("$name $lib"); done < <(
    ldd "$binary" | awk '$2=="=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)
done < <(grep -E '^COPY --from=' <<<"$runtime_stage" | awk '{print $2, $3}')
[ "$copied" -gt 0 ] || fail "the runtime stage copies no binary from the build stage '$build_name'"

# Owners of all those libraries from one dpkg -S call over each library's
# spellings: as ldd printed it, its /usr-merged twin and its resolved target.
spellings() { printf '%s\n' "$1" "${1#/usr}" "/usr$1" "$(readlink -f "$1")"; }
declare -A owner_of
while IFS= read -r line; do
  case "$line" in *": /"*) owner_of["${line#*: }"]="${line%%:*}" ;; esac
done < <(for entry in "${binary_libs[@]}"; do spellings "${entry#* }"; done | sort -u \
           | xargs -r dpkg -S 2>/dev/null || true)

declare -A needed
for entry in "${binary_libs[@]}"; do
  name="${entry%% *}"
  lib="${entry#* }"
  pkg=""
  while IFS= read -r cand; do
    pkg="${owner_of[$cand]:-}"
    [ -n "$pkg" ] && break
  done < <(spellings "$lib")
  if [ -z "$pkg" ]; then
    fail "$name loads $lib, which no Debian package owns (a library built here?)"
    continue
  fi
  needed[$pkg]=1
  [ -n "${installs[$pkg]:-}" ] \
    || fail "$name loads $lib from package '$pkg', which the runtime stage does not install"
done

if [ ${#needed[@]} -gt 0 ]; then
  for pkg in "${packages[@]}"; do
    [ -n "${needed[$pkg]:-}" ] \
      || fail "the runtime stage installs '$pkg', but no copied binary loads a library from it"
  done
fi

if [ "$failures" -gt 0 ]; then
  echo "dockerfile_test: $failures failure(s)" >&2
  exit 1
fi
echo "dockerfile_test: ${#packages[@]} runtime packages, $copied binaries, all in step"
