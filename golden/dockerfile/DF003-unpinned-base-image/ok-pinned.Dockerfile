# Everything here is pinned, a stage, scratch, or unknown.
ARG VARIANT
ARG GO_VERSION=1.22
FROM golang:${GO_VERSION}-alpine AS Builder
RUN go build -o /out/app .
FROM builder AS test
RUN go test ./...
FROM ${VARIANT}
FROM $TARGETOS-base
FROM python:3.12-slim@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
FROM nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
FROM scratch
COPY --from=Builder /out/app /app
ENTRYPOINT ["/app"]
