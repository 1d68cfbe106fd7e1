# deploy/Dockerfile: multi-stage, builds `make static` on a pinned Debian 12 with
# deploy/deps.sh, and ships FROM scratch only what deploy/rootfs.sh assembled (the static
# binary at /woodctl, CA certificates, a non-root user) running as uid 10001 with
# ENTRYPOINT ["/woodctl"]; .dockerignore keeps build output and .git out of the context.
. tests/lib/assert.sh
. tests/lib/deploy.sh
check . dockerfile
expect_out '^ok dockerfile: [0-9]+ assertions'
F=deploy/Dockerfile
mutate dockerfile $F 's.replace("FROM scratch", "FROM debian:12.12-slim")' 'final stage is FROM debian:12.12-slim, not scratch'
mutate dockerfile $F 's.replace("USER 10001:10001", "USER root")' 'does not switch to a non-root user'
mutate dockerfile $F 's.replace("USER 10001:10001\n", "")' 'does not switch to a non-root user'
mutate dockerfile $F 's.replace("FROM debian:12.12-slim AS build", "FROM debian:latest AS build")' 'is not a pinned Debian 12 tag'
mutate dockerfile $F 's.replace("ENTRYPOINT [\"/woodctl\"]", "ENTRYPOINT [\"/bin/woodctl\"]")' 'ENTRYPOINT is not'
mutate dockerfile $F 's.replace("make -j\"$(nproc)\" static", "make -j\"$(nproc)\"")' 'does not run make static'
mutate dockerfile .dockerignore 's.replace("build/\n", "")' '.dockerignore does not exclude build/'
mutate dockerfile $F '"# syntax=docker/dockerfile:1\n" + s' 'frontend .* is not pinned by digest'
