FROM ubuntu:24.04
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential git python3 \
    && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN make -C /src
CMD ["/src/app"]
