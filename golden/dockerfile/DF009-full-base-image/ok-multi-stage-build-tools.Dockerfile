FROM debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake git
COPY . /src
RUN cmake -S /src -B /build && cmake --build /build

FROM debian:bookworm-slim
COPY --from=build /build/app /usr/local/bin/app
CMD ["app"]
