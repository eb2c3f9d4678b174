# litescale in a container: build with the Rust toolchain, run on a slim Debian.
#   docker build -t litescale .
#   docker run -p 5480:5480 -p 9480:9480 -v litescale-data:/data litescale
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin litescale

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/litescale /usr/local/bin/litescale
ENV LITESCALE_LISTEN=0.0.0.0:5480 LITESCALE_DATA=/data LITESCALE_METRICS=0.0.0.0:9480
VOLUME /data
EXPOSE 5480 9480
HEALTHCHECK --interval=5s --timeout=3s CMD pg_isready -h 127.0.0.1 -p 5480 || exit 1
ENTRYPOINT ["litescale"]
