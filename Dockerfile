# aadd in a container: a build stage on Debian 12 that installs its packages
# with the same script as a developer machine, and a slim runtime stage with
# only the shared libraries the binaries load.
#   docker build -t aadd .
#   docker run -p 50051:50051 -p 8080:8080 -v aadd-data:/var/lib/aadd/data aadd
# (gRPC on 50051; the HTTP/JSON API and the labelling page on 8080)
# tests/deploy/dockerfile_test.sh keeps this file in step with the install
# script, the CMake targets and the libraries the binaries link.

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# x86-64-v3 (AVX2, FMA): portable to any x86-64 machine of the last decade,
# unlike the default -march=native of a developer build.
RUN cmake -S . -B build/image -G Ninja -DCMAKE_BUILD_TYPE=Release -DAADD_MARCH=x86-64-v3 \
 && ninja -C build/image aadd aadctl \
 && strip build/image/server/aadd build/image/client/aadctl

FROM debian:bookworm-slim
# Runtime libraries only: one package for each shared library that aadd and
# aadctl load (ldd), including those the base image already has; libsqlite3-0
# holds the durable session store, libcpp-httplib0.11 (with libbrotli1) the
# HTTP server, libprometheus-cpp-core1.0 the /metrics registry, libpq5
# (with the Kerberos, LDAP and GnuTLS libraries it loads) the PostgreSQL
# store of --store (tests/deploy/dockerfile_test.sh checks).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623 \
      libssl3 libc-ares2 libre2-9 zlib1g libsqlite3-0 libcpp-httplib0.11 libbrotli1 \
      libprometheus-cpp-core1.0 \
      libpq5 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1 \
      libldap-2.5-0 libsasl2-2 libgnutls30 libp11-kit0 libffi8 libidn2-0 libunistring2 \
      libtasn1-6 libnettle8 libhogweed6 libgmp10 \
      libstdc++6 libgcc-s1 libc6 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 aadd \
 && useradd --system --uid 10001 --gid aadd --home-dir /var/lib/aadd --no-create-home aadd \
 && mkdir -p /var/lib/aadd/data && chown -R aadd:aadd /var/lib/aadd
COPY --from=build /src/build/image/server/aadd /usr/local/bin/aadd
COPY --from=build /src/build/image/client/aadctl /usr/local/bin/aadctl
USER aadd
WORKDIR /var/lib/aadd
VOLUME ["/var/lib/aadd/data"]
EXPOSE 50051 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["aadctl", "health", "--server", "localhost:50051"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["aadd", "--data_dir=/var/lib/aadd/data"]
CMD ["--port=50051"]
