# syntax=docker/dockerfile:1
# tagsync's container image, for GitLab CI (examples/gitlab/.gitlab-ci.yml) and any CI or
# machine with docker:
#
#   docker run --rm -v "$PWD:/work" ghcr.io/OWNER/tagsync:0.1.0 validate -c tags.yaml
#
# One static (musl) binary at /usr/local/bin/tagsync, on Alpine with what the GitOps kit's
# scripts call (bash, curl, jq, git, CA certificates: tagsync reads the system's roots);
# runs as the unprivileged user tagsync (uid 10001). Alpine rather than scratch or
# distroless: GitLab runs a job's script with the image's shell, and the kit's scripts
# need those tools; it is about 30 MB, against 1.5 GB for the rust image the jobs used.
#
# Where the binary comes from, by the build argument BINARY:
#   source (default)  built here from this checkout: `docker build -t tagsync .`
#   prebuilt          dist/<amd64|arm64>/tagsync, the release's binaries
#                     (.github/workflows/release.yml builds the image this way)
ARG BINARY=source

FROM rust:1.89-alpine3.22 AS source
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
# On Alpine the host is x86_64/aarch64-unknown-linux-musl: a static binary.
RUN cargo build --release --locked && cp target/release/tagsync /tagsync

FROM scratch AS prebuilt
ARG TARGETARCH
COPY dist/${TARGETARCH}/tagsync /tagsync

# hadolint ignore=DL3006
FROM ${BINARY} AS binary

FROM alpine:3.22
# The packages follow Alpine 3.22's security updates (not pinned to a patch release).
# safe.directory: GitLab checks the repository out as another user.
# hadolint ignore=DL3018
RUN apk add --no-cache bash ca-certificates curl git jq \
    && adduser -D -u 10001 -h /home/tagsync tagsync \
    && git config --system --add safe.directory '*'
COPY --from=binary --chmod=755 /tagsync /usr/local/bin/tagsync
# The binary is static: no loader, no libc needed; it fails the build if it does not run.
RUN ["/usr/local/bin/tagsync", "--version"]
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/tagsync"]
CMD ["--help"]
