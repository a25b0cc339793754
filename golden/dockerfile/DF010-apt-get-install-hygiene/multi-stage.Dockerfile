ARG DEBIAN=debian:bookworm

# A builder stage is thrown away: left alone.
FROM ${DEBIAN} AS build
RUN apt-get update && apt-get install -y gcc make
RUN make -C /src

FROM ${DEBIAN}-slim AS base
# The lists are kept: the `test` stage installs from them without `apt-get update`.
RUN apt-get update && apt-get install -y ca-certificates

FROM base AS test
RUN apt-get install -y --no-install-recommends bats

FROM base
RUN apt-get update && apt-get install -y tini
COPY --from=build /src/app /app
