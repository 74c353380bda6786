# Container images of pkce-harness: `slim` (the binary and CA certificates) and `browser` (the
# same with Debian's Chromium, for `login: browser`). The release workflow pushes both:
#   docker build --target slim -t pkce-harness .
#   docker run --rm --network host -v "$PWD:/work" pkce-harness run --target target.yaml
FROM rust:1.89-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --profile dist --locked -p pkce-harness \
    && cp target/dist/pkce-harness /usr/local/bin/pkce-harness \
    && pkce-harness --version

FROM debian:bookworm-slim AS slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/harness harness
COPY --from=build /usr/local/bin/pkce-harness /usr/local/bin/pkce-harness
USER harness
WORKDIR /work
ENTRYPOINT ["pkce-harness"]
CMD ["--help"]

FROM slim AS browser
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
ENV PKCE_HARNESS_BROWSER=/usr/bin/chromium
USER harness
