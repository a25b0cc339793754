FROM ubuntu:24.04
RUN apt-get update && apt-get install -y wget
EXPOSE 8081
CMD ["/app"]
