FROM golang:1.22 AS build
RUN apt-get update && apt-get install -y curl
EXPOSE 6060
RUN go build -o /server .

FROM gcr.io/distroless/static-debian12
COPY --from=build /server /server
EXPOSE 8080
ENTRYPOINT ["/server"]
