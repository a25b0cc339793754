# workload: a Go binary on scratch (no user database at all): a numeric USER is the only possible one
# expect: final.USER exists; final.FROM = scratch; final.ENTRYPOINT = ["/app"]
# expect: final.HEALTHCHECK absent
# evidence: build go-scratch.Dockerfile#L11-L15
# evidence: docker-library/golang 1.26/trixie/Dockerfile#L131-L136
FROM golang:1.23-alpine AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -ldflags="-s -w" -o /app .

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /app /app
EXPOSE 8080
ENTRYPOINT ["/app"]
