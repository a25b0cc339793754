# workload: a Go service built in golang and shipped on distroless static :nonroot
# expect: final.USER absent; fix of DF002 is absent
# expect: final.FROM = gcr.io/distroless/static-debian12:nonroot; final.ENTRYPOINT = ["/server"]
# evidence: GoogleContainerTools/distroless common/variables.bzl#L17-L22
# evidence: GoogleContainerTools/distroless static/static.bzl#L11
FROM golang:1.23 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/server ./cmd/server

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /server
EXPOSE 8080
ENTRYPOINT ["/server"]
