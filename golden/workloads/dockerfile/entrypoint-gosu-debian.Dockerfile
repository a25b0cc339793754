# workload: a service whose entrypoint script chowns its data and drops to `app` with gosu (docker-library style)
# expect: final.USER absent; fix of DF002 is display-only
# expect: final.ENTRYPOINT = ["docker-entrypoint.sh"]
# evidence: build docker-entrypoint.sh#L4-L7
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends gosu \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 999 app && mkdir -p /var/lib/app
COPY docker-entrypoint.sh /usr/local/bin/
COPY app /usr/local/bin/app
VOLUME /var/lib/app
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["app", "serve"]
