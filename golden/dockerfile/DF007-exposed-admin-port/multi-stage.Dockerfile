ARG BASE=debian:bookworm-slim

# A builder stage: its EXPOSE never reaches the shipped image.
FROM golang:1.23 AS build
EXPOSE 22
RUN go build -o /out/app ./...

FROM ${BASE} AS runtime-base
EXPOSE 3389 8080

FROM runtime-base
COPY --from=build /out/app /app
ONBUILD EXPOSE 23
EXPOSE 2376
ENTRYPOINT ["/app"]
