FROM gcr.io/distroless/static-debian12
COPY server /server
EXPOSE 8080
ENTRYPOINT ["/server"]
